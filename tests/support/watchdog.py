"""A watchdog for the whole test run: a stuck test fails the run, named, never hangs it.

pytest-timeout bounds each test (setup, call and teardown) by raising in the main
thread, which a wait that swallows the exception, or native code, can defeat. This
plugin is the backstop: a daemon thread watches which test is in which phase and,
when one phase outlives ``WATCHDOG_PHASE_S`` or the run outlives ``WATCHDOG_RUN_S``,
prints the test's id, dumps every thread's stack and ends the process with status
:data:`EXIT_STUCK`. It also writes the current test to ``.pytest-current`` so the
outer ``scripts/test`` can name it if even this thread cannot run.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import sys
import threading
import time
from collections.abc import Generator
from pathlib import Path

import pytest

EXIT_STUCK = 3
PHASE_LIMIT_S = float(os.environ.get("WATCHDOG_PHASE_S", "300"))
RUN_LIMIT_S = float(os.environ.get("WATCHDOG_RUN_S", "2400"))
_POLL_S = 1.0


class _Watchdog:
    def __init__(self, current_file: Path | None, capture: object | None,
                 phase_limit_s: float = PHASE_LIMIT_S) -> None:
        self._phase_limit_s = phase_limit_s
        self._capture = capture  # pytest's capture manager: output is lost unless suspended
        self._lock = threading.Lock()
        self._where = ("(collection)", "collect")
        self._since = self._started = time.monotonic()
        self._current_file = current_file
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="test-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._current_file is not None:
            self._current_file.unlink(missing_ok=True)

    def enter(self, nodeid: str, phase: str) -> None:
        with self._lock:
            self._where = (nodeid, phase)
            self._since = time.monotonic()
        if self._current_file is not None:
            with contextlib.suppress(OSError):
                self._current_file.write_text(f"{nodeid} ({phase})\n")

    def _watch(self) -> None:
        while not self._stop.wait(_POLL_S):
            now = time.monotonic()
            with self._lock:
                (nodeid, phase), since = self._where, self._since
            if now - since > self._phase_limit_s:
                self._bite(f"{nodeid} stuck in {phase} for {now - since:.0f} s")
            elif now - self._started > RUN_LIMIT_S:
                self._bite(f"the run passed {RUN_LIMIT_S:.0f} s, in {nodeid} ({phase})")

    def _bite(self, what: str) -> None:
        suspend = getattr(self._capture, "suspend_global_capture", None)
        if suspend is not None:
            # The process ends next: what gets printed matters, not how capture takes it.
            with contextlib.suppress(Exception):
                suspend(in_=True)
        sys.stderr.write(f"\nwatchdog: {what}; stacks of every thread follow\n")
        sys.stderr.flush()
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        sys.stderr.write(f"watchdog: FAILED: {what}\n")
        sys.stderr.flush()
        os._exit(EXIT_STUCK)


_dog: _Watchdog | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _dog
    # One file per pytest-xdist worker ("gw0", ...), so parallel workers never clobber
    # each other's record of what they are running.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = f".pytest-current-{worker}" if worker else ".pytest-current"
    current = Path(str(session.config.rootpath)) / name
    # A pytest-xdist controller runs no test itself, so it stays "in collection" for the
    # whole run: only the run's limit applies to it (its workers watch their tests).
    controller = (getattr(session.config, "workerinput", None) is None
                  and bool(session.config.getoption("numprocesses", None)))
    _dog = _Watchdog(current, session.config.pluginmanager.getplugin("capturemanager"),
                     phase_limit_s=float("inf") if controller else PHASE_LIMIT_S)
    _dog.start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _dog is not None:
        _dog.stop()


def _phase(item: pytest.Item, phase: str) -> None:
    if _dog is not None:
        _dog.enter(item.nodeid, phase)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    _phase(item, "setup")
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    _phase(item, "call")
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[
        None, None, None]:
    _phase(item, "teardown")
    return (yield)
