"""pytest fixtures for the pinch fakes (registered by tests/conftest.py).

``pinch_simulator`` is a healthy simulator on the session's real LiveKit server;
``make_pinch_simulator`` builds more (with faults or a script), all closed after
the test; ``pinch_client`` is a :class:`~bot.pinch.PinchClient` pointed at
``pinch_simulator``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest

from bot.pinch import PinchClient, RetryPolicy
from bot.secrets import Secret
from tests.fakes.pinch import DEFAULT_SCRIPT, AgentTuning, PinchSimulator, SimulatorFaults
from tests.support.livekit_server import LiveKitServer

PINCH_TEST_TOKEN = "pinch-test-token-0123456789"

# Quick enough that a retried failure costs a test well under a second.
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2, total_timeout=5.0)

MakeSimulator = Callable[..., Awaitable[PinchSimulator]]


@pytest.fixture
async def make_pinch_simulator(livekit_server: LiveKitServer) -> AsyncIterator[MakeSimulator]:
    """``await make(faults=..., script=..., tuning=...)`` → a started simulator."""
    made: list[PinchSimulator] = []

    async def make(
        *,
        faults: SimulatorFaults | None = None,
        script: Sequence[tuple[str, str]] = DEFAULT_SCRIPT,
        tuning: AgentTuning | None = None,
        **kwargs: Any,
    ) -> PinchSimulator:
        sim = PinchSimulator(
            livekit_url=livekit_server.url,
            livekit_api_key=livekit_server.api_key,
            livekit_api_secret=livekit_server.api_secret,
            api_token=PINCH_TEST_TOKEN,
            script=script,
            faults=faults,
            tuning=tuning,
            **kwargs,
        )
        made.append(sim)
        await sim.start()
        return sim

    try:
        yield make
    finally:
        for sim in reversed(made):
            await sim.aclose()


@pytest.fixture
async def pinch_simulator(make_pinch_simulator: MakeSimulator) -> PinchSimulator:
    """A healthy simulator with the default script, closed after the test."""
    return await make_pinch_simulator()


@pytest.fixture
async def pinch_client(pinch_simulator: PinchSimulator) -> AsyncIterator[PinchClient]:
    """A client for ``pinch_simulator`` with a fast retry policy."""
    async with PinchClient(
        pinch_simulator.base_url, Secret(PINCH_TEST_TOKEN), timeout=5.0, retry=FAST_RETRY
    ) as client:
        yield client
