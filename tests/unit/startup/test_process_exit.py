"""``end_process``: the process ends with its status and nothing it wrote is lost,
although the interpreter is not finalized (see :mod:`bot.process_exit`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.livekit_server import REPO_ROOT

CHILD = """
import logging, logging.handlers, sys
from bot.process_exit import end_process

target = logging.FileHandler(sys.argv[1])
# Holds records until closed: only logging's shutdown writes them.
logging.getLogger().addHandler(logging.handlers.MemoryHandler(100, target=target))
logging.getLogger().warning("last words")
print("all done", end="")  # a pipe: block-buffered until flushed
end_process(3)
print("never")
"""


def test_end_process_exits_with_the_status_after_flushing_logs_and_stdout(
    tmp_path: Path,
) -> None:
    log = tmp_path / "child.log"
    done = subprocess.run([sys.executable, "-c", CHILD, str(log)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 3, done.stderr
    assert done.stdout == "all done"
    assert log.read_text() == "last words\n"


def test_end_process_treats_no_status_as_success(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from bot.process_exit import end_process; end_process(None)"],
        cwd=REPO_ROOT, capture_output=True, timeout=30, check=False)
    assert done.returncode == 0
