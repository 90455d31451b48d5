"""A link whose transport cannot keep up stays within its delay bound: once the session
is live its uplink holds no more than ``LinkConfig.live_backlog_ms`` (plus the frame
being sent), the rest is dropped and counted; what was said while the session was still
opening is all interpreted. Downstream, translated speech the player cannot take is
held no longer than the bound beyond the playback prebuffer, and counted as the link's.

Real parts: the Pinch simulator (LiveKit room or WebSocket) and the real transports,
whose sends are made to take 3× real time (:class:`~tests.support.slow_transport.SlowSends`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.interpretation.behind import DOWNLINK_DROPPED, UPLINK_SPEECH_DROPPED
from bot.interpretation.link import InterpreterLink, LinkConfig
from bot.interpretation.transport import Transport
from bot.pinch.options import SessionOptions
from bot.voice.playback import PlaybackMixer
from tests.fakes.pinch import PinchSimulator, SimulatorFaults
from tests.integration.interpretation.test_link import LinkProbe, make_link, push_tone, speak
from tests.support.fixtures_pinch import MakeSimulator
from tests.support.slow_transport import SlowSends
from tests.support.transports import transport_for

STARVED = 3.0
"""Each send takes this many times the frame's duration."""


@pytest.fixture
def probe() -> LinkProbe:
    return LinkProbe()


@pytest.fixture
async def starved(pinch_simulator: PinchSimulator,
                  transport_kind: str) -> AsyncIterator[Transport[Any]]:
    async with transport_for(transport_kind, pinch_simulator) as transport:
        yield SlowSends(transport, STARVED)


async def test_a_starved_link_holds_no_more_than_its_bound_while_speech_continues(
    starved: Transport[Any], probe: LinkProbe,
) -> None:
    config = LinkConfig()
    link = make_link(starved, probe, config)
    await link.start()
    try:
        await push_tone(link, 400.0, 3.0)  # three seconds without a pause
    finally:
        await link.aclose()
    assert link.stats.uplink_backlog_peak_ms <= config.live_backlog_ms + config.capture_ms
    frames = 3000 // config.capture_ms
    assert 0 < link.stats.frames_published < frames  # about a third went
    dropped = link.stats.behind.dropped_ms[UPLINK_SPEECH_DROPPED]
    assert dropped == link.uplink_stats.speech_dropped * config.capture_ms > 0


async def test_translated_speech_the_player_cannot_take_is_dropped_past_the_bound_and_counted(
    pinch_simulator: PinchSimulator, pinch_transport: Transport[Any], probe: LinkProbe,
) -> None:
    config = LinkConfig()
    mixer = PlaybackMixer(backlog_ms=config.live_backlog_ms)  # its player never reads
    playback = mixer.open_input("member-1")
    link = InterpreterLink("member-1", pinch_transport, SessionOptions("en-US", "es-ES", "female"),
                           on_transcript=probe.on_transcript, on_audio=playback.push,
                           config=config)
    await link.start()
    try:
        await speak(link, 300.0, 1.0)
        await pinch_simulator.wait_for_segments(1, timeout=10, played=True)
    finally:
        await link.aclose()
    held = playback.stats()
    assert held.buffered_ms <= held.prebuffer_ms + config.live_backlog_ms
    assert link.stats.behind.dropped_ms[DOWNLINK_DROPPED] == held.behind_dropped_ms > 0


async def test_a_session_still_opening_keeps_its_whole_backlog_on_a_starved_link(
    make_pinch_simulator: MakeSimulator, probe: LinkProbe,
) -> None:
    # On the WebSocket the server hears exactly the frames sent (LiveKit's audio source
    # fills a starved sender's gaps with silence, stretching what the room hears).
    sim = await make_pinch_simulator(faults=SimulatorFaults(agent_join_delay=1.5))
    async with transport_for("websocket", sim) as transport:
        link = make_link(SlowSends(transport, STARVED), probe)
        starting = asyncio.create_task(link.start())
        try:
            await push_tone(link, 300.0, 1.0)  # said while the session opens
            link.end_of_speech(pad_ms=700)
            await starting
            await asyncio.sleep(0.8)  # the member's pause
            await push_tone(link, 650.0, 2.0)  # and more once it is live: past the bound
            first = (await sim.wait_for_segments(1, timeout=15))[0]
        finally:
            await link.aclose()
    assert first.heard_frequency == pytest.approx(300, abs=20)
    assert first.duration_s >= 0.95  # every word of it
    assert link.uplink_stats.speech_dropped > 0  # what followed was cut to the bound
