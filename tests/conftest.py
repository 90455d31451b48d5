"""Fixtures shared by the whole suite: the real LiveKit server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.livekit_server import LiveKitServer, running_livekit_server

pytest_plugins = [
    "tests.support.watchdog",
    "tests.support.fixtures_pinch",
    "tests.support.fixtures_discord",
    "tests.support.fixtures_store",
]


@pytest.fixture(scope="session")
def livekit_server() -> Iterator[LiveKitServer]:
    """A livekit-server v1.13.5 process for the test session.

    Fails (never skips) when the binary is missing: run scripts/setup-deps test.
    """
    with running_livekit_server() as server:
        yield server
