"""An interpreter link recovers by itself: interpreter dropped, LiveKit restarted,
a burst of 429s, a token near expiry. Each time it reports what happened and the
next speech is interpreted again."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator

import pytest

from bot.interpretation.link import LinkConfig, LinkState
from bot.pinch import PinchClient
from bot.secrets import Secret
from tests.fakes.pinch import PinchSimulator, SimulatorFaults
from tests.integration.interpretation.test_link import LinkProbe, make_link, speak
from tests.support.fixtures_pinch import FAST_RETRY, PINCH_TEST_TOKEN, MakeSimulator
from tests.support.livekit_server import LiveKitServer, running_livekit_server
from tests.support.waiting import eventually

RESUME_WITHIN_S = 5.0


def _reconnected_after(probe: LinkProbe, since: float) -> bool:
    return any(s.state is LinkState.ACTIVE and s.at > since for s in probe.statuses)


@pytest.fixture
def probe() -> LinkProbe:
    return LinkProbe()


async def test_interpreter_leaving_mid_segment_opens_a_new_session_and_carries_on(
    make_pinch_simulator: MakeSimulator, probe: LinkProbe,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(drop_agent_in_segment=0))
    async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN), retry=FAST_RETRY) as client:
        link = make_link(client, probe)
        await link.start()
        sim.faults = SimulatorFaults()  # only the first session's interpreter drops
        try:
            await speak(link, 300.0, 1.0)
            await eventually(lambda: LinkState.RECONNECTING in probe.states())
            dropped_at = next(s.at for s in probe.statuses if s.state is LinkState.RECONNECTING)
            await eventually(lambda: _reconnected_after(probe, dropped_at), RESUME_WITHIN_S)
            await speak(link, 700.0, 1.0)
            await eventually(lambda: any(seg.heard_frequency > 650 for s in sim.sessions[1:]
                                         for seg in s.segments))
        finally:
            await link.aclose()
    assert LinkState.RECONNECTING in probe.states()
    assert any("interpreter left" in s.reason for s in probe.statuses)
    assert sim.sessions[0].agent_dropped
    assert link.stats.sessions_opened == 2


async def test_a_429_burst_during_reconnection_is_waited_out(
    make_pinch_simulator: MakeSimulator, probe: LinkProbe,
) -> None:
    sim = await make_pinch_simulator()
    async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN), retry=FAST_RETRY) as client:
        link = make_link(client, probe)
        await link.start()
        try:
            await eventually(lambda: sim.sessions[0].client_active_at is not None)
            sim.faults = dataclasses.replace(sim.faults, rate_limit_every=1, retry_after=0.2)
            await sim.agents[0].aclose()  # the interpreter goes away: a new session is needed
            await eventually(lambda: sum(c.status == 429 for c in sim.calls) >= 4)
            sim.faults = dataclasses.replace(sim.faults, rate_limit_every=0)
            burst_over = time.monotonic()
            await eventually(lambda: _reconnected_after(probe, burst_over), RESUME_WITHIN_S)
            await speak(link, 450.0, 1.0)
            await eventually(lambda: len(sim.sessions) == 2 and sim.sessions[1].segments)
        finally:
            await link.aclose()
    assert any(s.reason.startswith("pinch:") for s in probe.statuses
               if s.state is LinkState.RECONNECTING)
    assert sim.sessions[1].segments[0].heard_frequency == pytest.approx(450, abs=20)


async def test_a_new_session_replaces_one_whose_token_nears_expiry(
    make_pinch_simulator: MakeSimulator, probe: LinkProbe,
) -> None:
    sim = await make_pinch_simulator()
    # Tokens live an hour; ask for renewal when less than an hour minus 1.5 s is left.
    config = LinkConfig(refresh_before_expiry_s=3600 - 1.5)
    async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN), retry=FAST_RETRY) as client:
        link = make_link(client, probe, config)
        await link.start()
        try:
            await eventually(lambda: len(sim.sessions) >= 2, 10)
        finally:
            await link.aclose()
    assert any(s.reason == "session token near expiry" for s in probe.statuses)


@pytest.fixture
def own_livekit() -> Iterator[LiveKitServer]:
    """A server this test may kill without disturbing the others."""
    with running_livekit_server() as server:
        yield server


async def test_livekit_server_restart_mid_run_is_survived(
    own_livekit: LiveKitServer, probe: LinkProbe,
) -> None:
    sim = PinchSimulator(livekit_url=own_livekit.url, livekit_api_key=own_livekit.api_key,
                         livekit_api_secret=own_livekit.api_secret, api_token=PINCH_TEST_TOKEN)
    await sim.start()
    try:
        async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN),
                               retry=FAST_RETRY) as client:
            link = make_link(client, probe)
            await link.start()
            try:
                await eventually(lambda: sim.sessions[0].client_active_at is not None)
                own_livekit.kill()
                await asyncio.to_thread(own_livekit.start)
                restarted = time.monotonic()
                await eventually(lambda: _reconnected_after(probe, restarted), RESUME_WITHIN_S)
                resumed_after = max(s.at for s in probe.statuses
                                    if s.state is LinkState.ACTIVE) - restarted
                print(f"link active again {resumed_after:.2f} s after the server came back")
                await speak(link, 550.0, 1.0)
                await eventually(lambda: any(
                    seg.heard_frequency > 500 for s in sim.sessions for seg in s.segments), 10)
            finally:
                await link.aclose()
    finally:
        await sim.aclose()
    assert LinkState.RECONNECTING in probe.states()
