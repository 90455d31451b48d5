"""The store while its database is unavailable: a stopped PostgreSQL server, a SQLite file
whose write lock another process holds (see tests/support/sqlite_lock.py for why not a
read-only file). Every call that cannot be served says so with ``StoreUnavailable``,
never with the driver's own exception, and the same store works again once the
database is back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.store import ConfigLayer, Store
from bot.store.errors import StoreUnavailable
from tests.integration.store.test_store import GUILD, segment
from tests.support.postgres import PostgresServer
from tests.support.sqlite_lock import write_locked


async def test_every_call_is_unavailable_while_postgresql_is_stopped_and_works_after(
    postgres_server: PostgresServer,
) -> None:
    async with postgres_server.database("outage_calls") as url, await Store.open(url) as store:
        await store.update_server_config(GUILD, ConfigLayer(voice="male"))
        calls: list[Callable[[], Awaitable[object]]] = [
            store.ping, lambda: store.server_config(GUILD),
            lambda: store.update_server_config(GUILD, ConfigLayer(voice="female")),
            lambda: store.add_segment(segment(text="during")),
            lambda: store.segments(GUILD, "run-1")]
        async with postgres_server.stopped():
            for call in calls:
                with pytest.raises(StoreUnavailable):
                    await call()

        await store.ping()
        assert (await store.server_config(GUILD)).voice == "male"
        await store.add_segment(segment(text="after"))
        assert [s.original for s in await store.segments(GUILD, "run-1")] == ["after"]


async def test_sqlite_writes_are_unavailable_while_another_process_holds_its_lock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "interpret.sqlite3"
    async with await Store.open(f"sqlite:///{path}") as store:
        await store.update_server_config(GUILD, ConfigLayer(voice="male"))
        async with write_locked(path):
            with pytest.raises(StoreUnavailable, match="locked"):
                await store.add_segment(segment(text="during"))
            assert (await store.server_config(GUILD)).voice == "male"  # reads go on

        await store.add_segment(segment(text="after"))
        assert [s.original for s in await store.segments(GUILD, "run-1")] == ["after"]
