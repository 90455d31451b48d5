"""Applying the shipped Alembic migrations to a database, from inside the bot.

The migration scripts live in :mod:`bot.store.migrations` (package files, so an
installed bot finds them); :func:`upgrade` runs them to ``head`` on a
connection of the store's async engine. Alembic itself is synchronous: it runs
inside ``AsyncConnection.run_sync``, on the driver's own thread.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


#: Any constant shared by every process of the bot: serialises their migrations.
_MIGRATION_LOCK_ID = 0x696E7465  # "inte"


def _upgrade(connection: Connection) -> None:
    # Several processes (shards) starting at once on one database: one migrates, the
    # others wait for it and then find the schema at head.
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"),
                           {"id": _MIGRATION_LOCK_ID})
    elif connection.dialect.name == "sqlite":
        # The sqlite3 module opens no transaction before DDL: take the write lock now
        # (waiting up to the busy timeout), which also makes the migration atomic.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision (a no-op when it already is)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_current)
