"""Both of Pinch's transports against the simulator, for tests parametrised over them.

``transport_for(kind, sim)`` yields a ready :class:`~bot.interpretation.transport.Transport`
(``livekit``: a :class:`~bot.pinch.PinchClient` behind a LiveKit transport;
``websocket``: a :class:`~bot.pinch.realtime.PinchRealtimeClient` behind a WebSocket
transport) and closes what it made. The ``transport_kind`` fixture
(:mod:`tests.support.fixtures_pinch`) parametrises a test over :data:`TRANSPORTS`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, Final

from bot.interpretation.livekit_transport import LiveKitTransport
from bot.interpretation.transport import Transport
from bot.interpretation.websocket_transport import WebSocketTransport
from bot.pinch import PinchClient, RetryPolicy
from bot.pinch.realtime import PinchRealtimeClient
from bot.secrets import Secret
from tests.fakes.pinch import PinchSimulator

TRANSPORTS: Final = ("livekit", "websocket")
PINCH_TEST_TOKEN: Final = "pinch-test-token-0123456789"
# Quick enough that a retried failure costs a test well under a second.
FAST_RETRY: Final = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2,
                                total_timeout=5.0)


@contextlib.asynccontextmanager
async def transport_for(kind: str, sim: PinchSimulator, *, retry: RetryPolicy = FAST_RETRY,
                        request_timeout: float = 10.0) -> AsyncIterator[Transport[Any]]:
    if kind == "livekit":
        async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN), timeout=request_timeout,
                               retry=retry) as client:
            yield LiveKitTransport(client)
        return
    if kind != "websocket":
        raise ValueError(f"unknown transport {kind!r}")
    transport = WebSocketTransport(PinchRealtimeClient(
        sim.base_url, Secret(PINCH_TEST_TOKEN), timeout=request_timeout, retry=retry))
    try:
        yield transport
    finally:
        await transport.aclose()
