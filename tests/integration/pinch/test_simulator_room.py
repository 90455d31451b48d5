"""The simulator's agent in the room: lifecycle and injected faults."""

from __future__ import annotations

import asyncio
import time

import pytest
from livekit import rtc

from bot.pinch import NO_RETRY, PinchNetworkError, PinchTimeoutError
from tests.fakes.pinch import GARBAGE_MESSAGES, AgentTuning, PinchSimulator, SimulatorFaults
from tests.fakes.pinch.probe import RoomProbe
from tests.integration.pinch.helpers import client_for
from tests.support.fixtures_pinch import MakeSimulator


async def _session_probe(sim: PinchSimulator, voice: str = "clone") -> RoomProbe:
    async with client_for(sim) as client:
        session = await client.create_session("en-US", "es-ES", voice)
    return RoomProbe(session.url, session.token.reveal())


async def test_agent_leaves_and_frees_everything_when_the_client_leaves(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator()
    probe = await _session_probe(sim)
    (session,) = sim.sessions
    async with probe:
        await probe.wait_for_agent_audio()
        await probe.wait_until(lambda: session.client_active_at is not None)
    assert await sim.wait_for_session_end(session) == "client_left"
    assert not sim.agents[0].running


async def test_client_rejoining_within_the_grace_keeps_the_session_and_is_heard_again(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(tuning=AgentTuning(rejoin_grace_s=0.5))
    async with client_for(sim) as client:
        session = await client.create_session("en-US", "es-ES")
    (simulated,) = sim.sessions
    async with RoomProbe(session.url, session.token.reveal()) as first:
        await first.wait_for_agent_audio()
        await first.wait_until(lambda: simulated.client_active_at is not None)
    async with RoomProbe(session.url, session.token.reveal()) as second:
        await second.wait_for_agent_audio(heard=False)  # the same identity rejoins
        await second.pause(0.8)  # longer than the grace: only the rejoin keeps the agent
        await second.speak(440.0, 0.4)
        await second.pause(0.6)
        await second.wait_until(lambda: len(second.finals("translated")) == 1)
        assert not simulated.ended.is_set()
    assert len(simulated.segments) == 1
    assert await sim.wait_for_session_end(simulated) == "client_left"


async def test_agent_leaves_when_nobody_joins_in_time(make_pinch_simulator: MakeSimulator) -> None:
    sim = await make_pinch_simulator(tuning=AgentTuning(client_join_timeout_s=0.3))
    async with client_for(sim) as client:
        await client.create_session("en-US", "es-ES")
    assert await sim.wait_for_session_end(sim.sessions[0]) == "join_timeout"


async def test_simulator_close_makes_every_agent_leave_and_stops_serving(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator()
    async with client_for(sim) as client:
        await client.create_session("en-US", "es-ES")
        await client.create_session("en-US", "fr-FR")
    await sim.aclose()
    assert [s.ended_reason for s in sim.sessions] == ["closed", "closed"]
    assert not any(agent.running for agent in sim.agents)
    assert _simulator_tasks() == []
    async with client_for(sim, retry=NO_RETRY) as client:
        with pytest.raises(PinchNetworkError):  # the port no longer answers
            await client.create_session("en-US", "es-ES")


async def test_close_cuts_slow_answers_short_and_leaves_no_handler_running(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(response_delay=30.0))
    async with client_for(sim, retry=NO_RETRY, timeout=0.2) as client:
        with pytest.raises(PinchTimeoutError):
            await client.create_session("en-US", "es-ES")
    await asyncio.wait_for(sim.aclose(), 5)
    assert _simulator_tasks() == []


def _simulator_tasks() -> list[str]:
    """Names of tasks the simulator (its agents, its HTTP handlers) left running."""
    current = asyncio.current_task()
    return [
        f"{t.get_name()} {t.get_coro()!r}"
        for t in asyncio.all_tasks()
        if t is not current
        and (t.get_name().startswith("pinch-agent") or "RequestHandler" in repr(t.get_coro()))
    ]


async def test_agent_dropped_mid_segment_leaves_after_an_interim_without_finals(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(drop_agent_in_segment=0))
    async with await _session_probe(sim) as probe:
        await probe.wait_for_agent_audio()
        await probe.speak(440.0, 0.8)
        await probe.pause(0.6)
        await probe.wait_until(probe.agent_left.is_set)
    (session,) = sim.sessions
    assert session.agent_dropped
    assert session.ended_reason == "dropped"
    assert [r.event.is_final for r in probe.events] == [False]


async def test_garbage_data_messages_reach_the_client_and_are_rejected_by_reason(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(inject_garbage=True))
    async with await _session_probe(sim) as probe:
        await probe.wait_for_agent_audio()
        await probe.speak(440.0, 0.5)
        await probe.pause(0.7)
        await probe.wait_until(lambda: len(probe.finals("translated")) == 1)
    assert set(GARBAGE_MESSAGES) <= set(probe.raw_packets)
    assert probe.parser.rejected == {"not_json": 1, "not_utf8": 1, "wrong_type": 1,
                                     "oversized": 1}
    assert probe.parser.ignored == {"unknown_type": 1}
    assert len(probe.finals("original")) == 1


async def test_translated_audio_delay_holds_the_audio_back_after_the_translation(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(translated_audio_delay=0.5))
    async with await _session_probe(sim) as probe:
        await probe.wait_for_agent_audio()
        await probe.speak(440.0, 0.4)
        await probe.pause(0.6)
        (record,) = await sim.wait_for_segments(1, played=True)
        await probe.wait_until(lambda: bool(probe.tone_bursts()))
    assert record.audio_started_at - record.translation_sent_at >= 0.5  # type: ignore[operator]
    assert probe.tone_bursts()[0].started_at - probe.finals("translated")[0].at >= 0.4


async def test_translation_delay_separates_the_final_original_from_its_translation(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(translation_delay=0.5))
    async with await _session_probe(sim) as probe:
        await probe.wait_for_agent_audio()
        await probe.speak(440.0, 0.4)
        await probe.pause(0.6)
        await probe.wait_until(lambda: len(probe.finals("translated")) == 1)
    assert probe.finals("translated")[0].at - probe.finals("original")[0].at >= 0.45


async def test_a_second_audio_track_is_counted_and_not_listened_to(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator()
    async with await _session_probe(sim) as probe:
        await probe.wait_for_agent_audio()
        extra = rtc.AudioSource(48_000, 1)
        await probe.room.local_participant.publish_track(
            rtc.LocalAudioTrack.create_audio_track("second", extra),
            rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE),
        )
        deadline = time.monotonic() + 5
        while sim.sessions[0].ignored_tracks == 0 and time.monotonic() < deadline:
            await probe.pause(0.05)
        await extra.aclose()
    assert sim.sessions[0].ignored_tracks == 1
