"""Turning ``DATABASE_URL`` into the async driver URL SQLAlchemy connects with.

The settings accept what people write: ``sqlite:///path``, ``postgresql://...``
or ``postgres://...``. The store runs on asyncio drivers only, so this is the
one place that maps them: SQLite → ``aiosqlite``, PostgreSQL → ``asyncpg``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url


class DatabaseUrlError(ValueError):
    """The URL names no backend the store supports; the message is fit for a user."""


def async_url(database_url: str) -> URL:
    """The SQLAlchemy URL with the async driver for ``database_url``."""
    try:
        url = make_url(database_url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError with the URL in it
        raise DatabaseUrlError("DATABASE_URL is not a valid database URL") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+asyncpg")
    raise DatabaseUrlError("DATABASE_URL must start with sqlite: or postgresql:")


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL (``None`` for in-memory or other backends)."""
    database = url.database
    if url.get_backend_name() != "sqlite" or database is None or database in ("", ":memory:"):
        return None
    return Path(database)
