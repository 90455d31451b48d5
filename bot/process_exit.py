"""The last step of every process that may have used LiveKit: exit without finalizing.

livekit's native runtime keeps threads that call back into Python (its log forwarding,
room and track events) even after its own ``atexit`` dispose has run. A callback that
arrives once CPython has begun finalizing makes that thread leave through
``pthread_exit``, whose forced unwind through Rust's non-unwinding frames aborts the
whole process ("panic in a function that cannot unwind", SIGABRT): measured in 6 of 60
shutdowns of the Pinch simulator, and 0 of 60 ending as below.

So a process whose work is done and whose resources are closed (rooms left, store
closed, tasks awaited: the callers' own shutdown) flushes its logs and standard streams
and ends with :func:`os._exit`, skipping the interpreter's finalization.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import NoReturn


def end_process(status: int | None) -> NoReturn:
    """Flush logging, stdout and stderr, then exit with ``status`` (``None`` is 0)."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status or 0)
