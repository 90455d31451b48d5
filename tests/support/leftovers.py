"""The servers a test run starts, written down so a crashed worker's orphans are reaped.

A pytest worker that dies (a segfault in native code, a SIGKILL from the outer
timeout) cannot run its fixture finalizers, and the ``livekit-server`` and
PostgreSQL it started live on, holding ports and CPU for the runs that follow.
``scripts/test`` names a file in ``INTERPRET_TEST_LEFTOVERS``; every server the
tests start appends its pid and program there, and after pytest ends
``python -m tests.support.leftovers FILE`` stops whatever is still running.
A pid is only signalled while its command line still names the program, so a
recycled pid is never hit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ENV = "INTERPRET_TEST_LEFTOVERS"


@dataclass(frozen=True)
class Started:
    pid: int
    program: str  # a substring of its command line, arguments joined by spaces: "-m bot"


def record(pid: int, program: str) -> None:
    """Note a started server, if this run keeps a list (outside scripts/test it does not)."""
    path = os.environ.get(ENV)
    if not path or not program.strip() or "\n" in program:
        return
    with open(path, "a", encoding="utf-8") as out:  # one short line: appends do not interleave
        out.write(f"{pid}\t{program}\n")


def parse(text: str) -> list[Started]:
    started = []
    for line in text.splitlines():
        pid, _, program = line.partition("\t")
        if pid.isdigit() and program:
            started.append(Started(int(pid), program))
    return started


def _still_runs(entry: Started) -> bool:
    try:
        cmdline = Path(f"/proc/{entry.pid}/cmdline").read_bytes()
    except OSError:
        return False
    return entry.program.encode() in cmdline.replace(b"\0", b" ")


def reap(started: list[Started], grace_s: float = 5.0) -> list[Started]:
    """Stop those still running (SIGTERM, then SIGKILL after ``grace_s``); return them."""
    alive = [entry for entry in started if _still_runs(entry)]
    for entry in alive:
        _signal(entry.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(_still_runs(entry) for entry in alive):
        time.sleep(0.1)
    for entry in alive:
        if _still_runs(entry):
            _signal(entry.pid, signal.SIGKILL)
    return alive


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def main(argv: list[str]) -> int:
    path = Path(argv[1])
    if not path.exists():
        return 0
    for entry in reap(parse(path.read_text(encoding="utf-8"))):
        print(f"test: reaped {entry.program} (pid {entry.pid}) left by a worker that died",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
