"""pytest fixtures for the pinch fakes (registered by tests/conftest.py).

``pinch_simulator`` is a healthy simulator on the session's real LiveKit server;
``make_pinch_simulator`` builds more (with faults or a script), all closed after
the test; ``pinch_client`` is a :class:`~bot.pinch.PinchClient` pointed at
``pinch_simulator``. ``transport_kind`` parametrises a test over both of Pinch's
transports (``livekit``, ``websocket``) and ``pinch_transport`` is that transport
pointed at ``pinch_simulator`` (see :mod:`tests.support.transports`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest

from bot.interpretation.transport import Transport
from bot.pinch import PinchClient
from bot.secrets import Secret
from tests.fakes.pinch import DEFAULT_SCRIPT, AgentTuning, PinchSimulator, SimulatorFaults
from tests.support.livekit_server import LiveKitServer
from tests.support.transports import FAST_RETRY, PINCH_TEST_TOKEN, TRANSPORTS, transport_for

__all__ = ["FAST_RETRY", "PINCH_TEST_TOKEN", "MakeSimulator"]

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


@pytest.fixture(params=TRANSPORTS)
def transport_kind(request: pytest.FixtureRequest) -> str:
    """``livekit`` or ``websocket``: the test runs once over each."""
    return str(request.param)


@pytest.fixture
async def pinch_transport(pinch_simulator: PinchSimulator,
                          transport_kind: str) -> AsyncIterator[Transport[Any]]:
    """The ``transport_kind`` transport pointed at ``pinch_simulator``."""
    async with transport_for(transport_kind, pinch_simulator) as transport:
        yield transport
