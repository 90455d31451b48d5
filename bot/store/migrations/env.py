"""Alembic environment: runs on the connection the store hands over.

:func:`bot.store.migrate.upgrade` opens the async engine, enters a sync
connection with ``run_sync`` and passes it in ``config.attributes``; this file
never opens its own. Running ``alembic`` by hand is not supported: the bot
migrates itself at start.
"""

from __future__ import annotations

from alembic import context

from bot.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("bot.store migrations run through bot.store.migrate.upgrade only")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
