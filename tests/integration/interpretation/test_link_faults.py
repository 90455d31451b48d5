"""An interpreter link recovers by itself, over either transport: the session ended by
the server, its token expired, a storm of 503s or 429s while a new session is asked
for, the server gone and back. Each time it reports what happened and the next speech
is interpreted again.

What "the server" is depends on the transport: on LiveKit the interpreter leaves the
room and the LiveKit server restarts; on the WebSocket the simulator closes the
socket (4503, 4401) and stops listening, cutting live sockets, then listens again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from typing import Final

import pytest

from bot.interpretation.link import LinkState
from tests.fakes.pinch import PinchSimulator, SimulatorFaults
from tests.integration.interpretation.test_link import LinkProbe, make_link, speak
from tests.support.fixtures_pinch import PINCH_TEST_TOKEN, MakeSimulator
from tests.support.livekit_server import LiveKitServer, running_livekit_server
from tests.support.transports import transport_for
from tests.support.waiting import eventually

RESUME_WITHIN_S = 5.0
SERVER_ENDED_REASON: Final = {
    "livekit": "interpreter left",
    "websocket": "session ended by the server (4503)",
}
TOKEN_REASON: Final = {
    "livekit": "session token near expiry",  # the link renews before the JWT's exp
    "websocket": "session token expired (4401)",  # the server closes the socket
}


def _reconnected_after(probe: LinkProbe, since: float) -> bool:
    return any(s.state is LinkState.ACTIVE and s.at > since for s in probe.statuses)


def _heard_after_first_session(sim: PinchSimulator, low_hz: float) -> bool:
    return any(seg.heard_frequency > low_hz for s in sim.sessions[1:] for seg in s.segments)


@pytest.fixture
def probe() -> LinkProbe:
    return LinkProbe()


async def test_the_server_ending_a_session_mid_segment_opens_a_new_one_and_carries_on(
    make_pinch_simulator: MakeSimulator, probe: LinkProbe, transport_kind: str,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(drop_agent_in_segment=0))
    async with transport_for(transport_kind, sim) as transport:
        link = make_link(transport, probe)
        await link.start()
        sim.faults = SimulatorFaults()  # only the first session's interpreter drops
        try:
            await speak(link, 300.0, 1.0)
            await eventually(lambda: LinkState.RECONNECTING in probe.states())
            dropped_at = next(s.at for s in probe.statuses if s.state is LinkState.RECONNECTING)
            await eventually(lambda: _reconnected_after(probe, dropped_at), RESUME_WITHIN_S)
            await speak(link, 700.0, 1.0)
            await eventually(lambda: _heard_after_first_session(sim, 650))
        finally:
            await link.aclose()
    assert any(s.reason == SERVER_ENDED_REASON[transport_kind] for s in probe.statuses)
    assert sim.sessions[0].agent_dropped
    assert link.stats.sessions_opened == 2


async def test_a_session_whose_token_expires_is_replaced_and_speech_carries_on(
    make_pinch_simulator: MakeSimulator, probe: LinkProbe, transport_kind: str,
) -> None:
    # LiveKit: the first token lives 121.5 s, so the link (renewing 120 s before) replaces
    # it 1.5 s in. WebSocket: the server closes the socket with 4401.
    sim = await make_pinch_simulator(faults=SimulatorFaults(token_ttl_s=121.5))
    async with transport_for(transport_kind, sim) as transport:
        link = make_link(transport, probe)
        await link.start()
        sim.faults = SimulatorFaults()  # later sessions' tokens live an hour
        try:
            if transport_kind == "websocket":
                await sim.expire_session(sim.sessions[0])
            await eventually(lambda: len(sim.sessions) >= 2, 10)
            await eventually(lambda: link.state is LinkState.ACTIVE, RESUME_WITHIN_S)
            await speak(link, 450.0, 1.0)
            await eventually(lambda: _heard_after_first_session(sim, 400))
        finally:
            await link.aclose()
    reasons = [s.reason for s in probe.statuses if s.state is LinkState.RECONNECTING]
    assert reasons[:1] == [TOKEN_REASON[transport_kind]]
    assert len(sim.sessions) == 2


@pytest.mark.parametrize("status", [429, 503])
async def test_a_storm_of_refusals_while_reopening_is_waited_out(
    make_pinch_simulator: MakeSimulator, probe: LinkProbe, transport_kind: str, status: int,
) -> None:
    sim = await make_pinch_simulator()
    async with transport_for(transport_kind, sim) as transport:
        link = make_link(transport, probe)
        await link.start()
        try:
            await eventually(lambda: sim.sessions[0].client_active_at is not None)
            storm = (dict(rate_limit_every=1, retry_after=0.2) if status == 429
                     else dict(unavailable_every=1))
            sim.faults = dataclasses.replace(sim.faults, **storm)  # type: ignore[arg-type]
            began = time.monotonic()
            await sim.end_session(sim.sessions[0])  # a new session is needed now
            await eventually(lambda: sum(c.status == status for c in sim.calls) >= 4)
            storm_s = time.monotonic() - began
            refused = sum(c.status == status for c in sim.calls)
            sim.faults = SimulatorFaults()
            storm_over = time.monotonic()
            await eventually(lambda: _reconnected_after(probe, storm_over), RESUME_WITHIN_S)
            await speak(link, 450.0, 1.0)
            await eventually(lambda: len(sim.sessions) == 2 and sim.sessions[1].segments)
        finally:
            await link.aclose()
    print(f"\n{refused} refusals in {storm_s:.2f} s before the storm ended")
    assert any(s.reason.startswith("pinch:") for s in probe.statuses
               if s.state is LinkState.RECONNECTING)
    # One status for the whole storm, not one per refused request.
    assert sum(s.reason.startswith("pinch:") for s in probe.statuses) == 1
    assert sim.sessions[1].segments[0].heard_frequency == pytest.approx(450, abs=20)


@pytest.fixture
def own_livekit() -> Iterator[LiveKitServer]:
    """A server this test may kill without disturbing the others."""
    with running_livekit_server() as server:
        yield server


async def test_the_server_gone_and_back_is_survived(
    own_livekit: LiveKitServer, probe: LinkProbe, transport_kind: str,
) -> None:
    sim = PinchSimulator(livekit_url=own_livekit.url, livekit_api_key=own_livekit.api_key,
                         livekit_api_secret=own_livekit.api_secret, api_token=PINCH_TEST_TOKEN)
    await sim.start()
    try:
        async with transport_for(transport_kind, sim) as transport:
            link = make_link(transport, probe)
            await link.start()
            try:
                await eventually(lambda: sim.sessions[0].client_active_at is not None)
                if transport_kind == "livekit":
                    own_livekit.kill()
                    await asyncio.to_thread(own_livekit.start)
                else:
                    await sim.go_away()
                    await eventually(lambda: LinkState.RECONNECTING in probe.states())
                    await asyncio.sleep(1.0)  # attempts meanwhile find nobody listening
                    await sim.come_back()
                back = time.monotonic()
                await eventually(lambda: _reconnected_after(probe, back), RESUME_WITHIN_S)
                resumed_after = max(s.at for s in probe.statuses
                                    if s.state is LinkState.ACTIVE) - back
                print(f"\nlink active again {resumed_after:.2f} s after the server came back")
                await speak(link, 550.0, 1.0)
                await eventually(lambda: any(
                    seg.heard_frequency > 500 for s in sim.sessions for seg in s.segments), 10)
            finally:
                await link.aclose()
    finally:
        await sim.aclose()
    assert LinkState.RECONNECTING in probe.states()

