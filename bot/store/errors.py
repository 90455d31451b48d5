"""The one failure of the store that its callers handle: the database is unavailable.

A PostgreSQL server that is stopped, restarting or unreachable, a SQLite file whose
write lock another process holds past the busy timeout (or that cannot be opened or
written, or whose disk is full), a pool with no connection to give within its
timeout: every store method raises :class:`StoreUnavailable` for
these (the driver's exception is its ``__cause__``), so that callers can tell "try
again later" from a bug. Segment writes wait and are retried
(:mod:`bot.transcripts.storing`), commands answer with one sentence.

Everything else keeps its own type: a value the database refuses (integrity, data
or syntax errors) is a bug or bad input, and retrying it would never succeed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import exc as sa_exc

from bot.log_redaction import redact

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")

#: Errors of a statement the database refused: retrying the same one cannot help.
_REFUSED = (sa_exc.IntegrityError, sa_exc.DataError, sa_exc.ProgrammingError,
            sa_exc.NotSupportedError)
#: The database (or the way to it) is not there right now.
_UNAVAILABLE = (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError, TimeoutError)
#: SQLite's primary result codes that mean "not now": busy, locked, read-only, I/O
#: error, disk full, cannot open, lock protocol. Its generic SQLITE_ERROR ("no such
#: table", a syntax error) is raised as an OperationalError too, but is a bug.
_SQLITE_UNAVAILABLE = frozenset({5, 6, 8, 10, 13, 14, 15})


class StoreUnavailable(Exception):
    """The database cannot be reached or written right now; trying again later may work.

    ``str()`` is one redacted line saying why (safe for logs and health answers)."""


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (raised by the database driver or SQLAlchemy) means "not now"
    rather than "never"."""
    if isinstance(exc, StoreUnavailable):
        return True
    if not isinstance(exc, _UNAVAILABLE) or isinstance(exc, _REFUSED):
        return False
    sqlite_code = getattr(getattr(exc, "orig", None), "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return sqlite_code & 0xFF in _SQLITE_UNAVAILABLE
    return True


def reason(exc: BaseException) -> str:
    """One short line for ``exc``: the driver's own first line, without credentials."""
    cause = exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc
    first = str(cause).splitlines()[0] if str(cause) else ""
    return redact(f"{type(cause).__name__}: {first}" if first else type(cause).__name__)[:200]


def outage_aware(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Make a store method raise :class:`StoreUnavailable` when the database is not there."""

    @functools.wraps(method)
    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(self, *args, **kwargs)
        except StoreUnavailable:
            raise
        except Exception as exc:
            if is_unavailable(exc):
                raise StoreUnavailable(reason(exc)) from exc
            raise

    return wrapper
