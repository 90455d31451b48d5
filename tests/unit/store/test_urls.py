"""DATABASE_URL → the async driver URL, in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store.urls import DatabaseUrlError, async_url, sqlite_file


@pytest.mark.parametrize(("given", "driver"), [
    ("sqlite:///data/interpret.sqlite3", "sqlite+aiosqlite"),
    ("postgresql://bot:pw@db:5432/interpret", "postgresql+asyncpg"),
    ("postgres://bot@db/interpret", "postgresql+asyncpg"),
])
def test_each_backend_maps_to_its_async_driver(given: str, driver: str) -> None:
    assert async_url(given).drivername == driver


def test_the_rest_of_the_url_is_kept() -> None:
    url = async_url("postgresql://bot:secret@db:6543/interpret?sslmode=require")
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "bot", "secret", "db", 6543, "interpret")
    assert url.query == {"sslmode": "require"}


def test_the_sqlite_file_is_known() -> None:
    assert sqlite_file(async_url("sqlite:///data/x.sqlite3")) == Path("data/x.sqlite3")
    assert sqlite_file(async_url("sqlite://")) is None


@pytest.mark.parametrize("given", ["mysql://x/y", "not a url"])
def test_other_backends_are_refused(given: str) -> None:
    with pytest.raises(DatabaseUrlError):
        async_url(given)
