"""pytest fixtures for the store (registered by tests/conftest.py).

- ``postgres_server``: one real PostgreSQL server for the test session, started on
  first use (see :mod:`tests.support.postgres`).
- ``database_url``: parametrised over both backends: a SQLite file in
  ``tmp_path`` and a fresh database on ``postgres_server``. A test that takes it
  runs twice, ``[sqlite]`` and ``[postgresql]``.
- ``store``: a :class:`~bot.store.Store` opened (migrated) on ``database_url``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.store import Store
from tests.support.postgres import PostgresServer, running_postgres

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest,
                       tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'interpret.sqlite3'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    async with server.database(database_name(request)) as url:
        yield url


def database_name(request: pytest.FixtureRequest) -> str:
    """A PostgreSQL database name of the test's own (from its name and parameters)."""
    return "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50]


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(database_url)
    try:
        yield opened
    finally:
        await opened.aclose()
