"""Persistent state: per-guild settings, member preferences, command sync, segments.

SQLAlchemy 2 (async) over SQLite (``aiosqlite``, a file under ``DATA_DIR`` by
default) or PostgreSQL (``asyncpg``) when ``DATABASE_URL`` says so. The schema
is created and upgraded by the Alembic migrations shipped in
:mod:`bot.store.migrations` every time the store opens.
"""

from bot.store.config import ConfigError, ConfigLayer, Effective, Source, resolve
from bot.store.segments import StoredSegment
from bot.store.store import Store, StoredPreference

__all__ = [
    "ConfigError",
    "ConfigLayer",
    "Effective",
    "Source",
    "Store",
    "StoredPreference",
    "StoredSegment",
    "resolve",
]
