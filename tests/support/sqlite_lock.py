"""A SQLite database another process will not let us write: its write lock is held.

Making the file read-only does not work for these tests: they run as root, and root
ignores file modes (``chmod 0444`` on the file and its directory changes nothing for
it), a read-only remount needs privileges the tests do not have, and moving the file
or its directory away leaves the bot's open connections writing to the moved file.
What does happen to a SQLite file in production, whoever runs the bot, is another
process holding its write lock: a backup, ``sqlite3`` left open in a transaction, a
second program. :func:`write_locked` does exactly that, from a separate Python
process: ``BEGIN EXCLUSIVE`` on the file until the block ends. Every write of the
bot then waits SQLite's busy timeout and fails with "database is locked"; reads go
on (the store runs in WAL mode, where readers are not blocked by the writer).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

_HOLD = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()  # until the test closes our stdin
db.execute("ROLLBACK")
"""


@contextlib.asynccontextmanager
async def write_locked(path: Path, timeout_s: float = 30.0) -> AsyncIterator[None]:
    """Another process holds ``path``'s write lock until the block ends."""
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _HOLD, str(path),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert holder.stdin is not None
    assert holder.stdout is not None
    try:
        async with asyncio.timeout(timeout_s):
            assert await holder.stdout.readline() == b"locked\n", "the lock was not taken"
        yield
    finally:
        holder.stdin.close()
        try:
            async with asyncio.timeout(timeout_s):
                await holder.wait()
        except TimeoutError:
            holder.kill()
            await holder.wait()
