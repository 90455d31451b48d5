"""URLs named in messages never show a password."""

from __future__ import annotations

import pytest

from bot.urls import host_and_port, masked_url


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://bot:s3cret@db.internal:5432/interpret",
     "postgresql://bot:***@db.internal:5432/interpret"),
    ("http://user:p%40ss@proxy:3128", "http://user:***@proxy:3128"),
    ("sqlite:///data/interpret.sqlite3", "sqlite:///data/interpret.sqlite3"),
    ("http://user@proxy:3128", "http://user@proxy:3128"),
    ("postgresql://:only-password@db/x", "postgresql://:***@db/x"),
])
def test_masked_url_hides_only_the_password(url: str, shown: str) -> None:
    assert masked_url(url) == shown


def test_an_unparseable_url_is_masked_entirely() -> None:
    assert masked_url("http://[not-an-ipv6") == "***"


@pytest.mark.parametrize(("url", "expected"), [
    ("https://api.startpinch.com", "api.startpinch.com:443"),
    ("http://proxy.invalid:3128", "proxy.invalid:3128"),
    ("http://127.0.0.1", "127.0.0.1:80"),
])
def test_host_and_port_fills_in_the_default_port(url: str, expected: str) -> None:
    assert host_and_port(url) == expected
