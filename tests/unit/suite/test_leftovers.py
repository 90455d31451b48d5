"""Spec: servers left running by a worker that died are stopped after the run."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import leftovers


def sleeper(*marker: str) -> subprocess.Popen[bytes]:
    """A process with ``marker`` in its command line, as "livekit-server" is in the server's."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", *marker])
    # /proc shows an empty command line until the new program is mapped in.
    cmdline = Path(f"/proc/{process.pid}/cmdline")
    deadline = time.monotonic() + 10
    while marker[-1].encode() not in cmdline.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.01)
    return process


def test_a_recorded_server_still_running_is_stopped(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(leftovers.ENV, str(tmp_path / "started"))
    orphan = sleeper("fake-livekit-server")
    try:
        leftovers.record(orphan.pid, "fake-livekit-server")
        reaped = leftovers.reap(leftovers.parse((tmp_path / "started").read_text()))
        assert [entry.pid for entry in reaped] == [orphan.pid]
        assert orphan.wait(timeout=10) is not None
    finally:
        orphan.kill()
        orphan.wait()


def test_a_pid_now_running_another_program_is_left_alone(tmp_path: Path) -> None:
    other = sleeper("someone-elses-program")
    try:
        reaped = leftovers.reap([leftovers.Started(other.pid, "livekit-server")])
        time.sleep(0.2)
        assert reaped == []
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_arguments_are_matched_as_the_command_line_reads(tmp_path: Path) -> None:
    bot = sleeper("-m", "bot")
    try:
        reaped = leftovers.reap([leftovers.Started(bot.pid, "-m bot")])
        assert [entry.pid for entry in reaped] == [bot.pid]
        assert bot.wait(timeout=10) is not None
    finally:
        bot.kill()
        bot.wait()


def test_nothing_is_recorded_outside_a_run_that_keeps_a_list(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(leftovers.ENV, raising=False)
    leftovers.record(12345, "livekit-server")
    assert list(tmp_path.iterdir()) == []
