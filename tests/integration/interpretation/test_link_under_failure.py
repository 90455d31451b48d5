"""An interpreter link under failure: every part it runs is supervised, it is active only
when interpreted, it never churns, never hangs, and leaves nothing behind.

Faults come from the Pinch simulator (an interpreter that never or late joins, tokens
that expire at once, slow answers) or from LiveKit's own parts made to raise.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

import pytest
from livekit import rtc

from bot.interpretation.link import (
    InterpreterLink,
    LinkConfig,
    LinkStartTimeout,
    LinkState,
)
from bot.interpretation.livekit_transport import LiveKitTransport
from bot.log_redaction import registered_secret_count
from bot.pinch import PinchClient
from bot.pinch.options import SessionOptions
from bot.secrets import Secret
from tests.fakes.pinch import SimulatorFaults
from tests.integration.interpretation.test_link import LinkProbe, make_link, speak
from tests.support.fixtures_pinch import FAST_RETRY, PINCH_TEST_TOKEN, MakeSimulator
from tests.support.transports import transport_for
from tests.support.waiting import eventually

QUICK = LinkConfig(reconnect_base_delay_s=0.2, reconnect_max_delay_s=1.0)


def _active_after(probe: LinkProbe, since: float) -> bool:
    return any(s.state is LinkState.ACTIVE and s.at > since for s in probe.statuses)


class _Participant:
    """LiveKit's local participant, except that ``publish_track`` raises on demand."""

    def __init__(self, real: rtc.LocalParticipant, failures: list[int]) -> None:
        self._real = real
        self._failures = failures

    async def publish_track(self, *args: Any, **kwargs: Any) -> rtc.LocalTrackPublication:
        if self._failures[0] > 0:
            self._failures[0] -= 1
            raise RuntimeError("engine: publisher negotiation failed")
        return await self._real.publish_track(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class PublishFailsRoom(rtc.Room):
    failures: ClassVar[list[int]] = [0]  # publish_track calls left to fail

    @property
    def local_participant(self) -> Any:
        return _Participant(super().local_participant, self.failures)


async def test_publish_track_raising_ends_that_session_and_a_new_one_follows(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator()
    probe = LinkProbe()
    PublishFailsRoom.failures = [0]
    async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN), retry=FAST_RETRY) as client:
        link = InterpreterLink("member-1", LiveKitTransport(client, room_factory=PublishFailsRoom),
                               SessionOptions("en-US", "es-ES", "female"),
                               on_transcript=probe.on_transcript, on_audio=probe.audio.append,
                               on_status=probe.statuses.append, config=QUICK)
        await link.start()
        try:
            PublishFailsRoom.failures = [1]
            await sim.agents[0].aclose()  # a new session is needed; its publish fails once
            failed_at = time.monotonic()
            await eventually(lambda: _active_after(probe, failed_at), 10)
            await speak(link, 450.0, 1.0)
            await eventually(lambda: any(seg.heard_frequency > 400 for s in sim.sessions[1:]
                                         for seg in s.segments))
        finally:
            await link.aclose()
    reasons = [s.reason for s in probe.statuses if s.state is LinkState.RECONNECTING]
    assert any("publisher negotiation failed" in r for r in reasons)
    assert len(sim.sessions) == 3  # the first, the one whose publish failed, the next


async def test_capture_frame_raising_is_reported_and_the_link_reconnects(
    make_pinch_simulator: MakeSimulator, monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = await make_pinch_simulator()
    probe = LinkProbe()
    async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN), retry=FAST_RETRY) as client:
        link = make_link(client, probe, QUICK)
        await link.start()
        real_capture = rtc.AudioSource.capture_frame
        failures = [1]

        async def capture_frame(self: rtc.AudioSource, frame: rtc.AudioFrame) -> None:
            if failures[0]:
                failures[0] -= 1
                raise rtc.ConnectError("audio source: ffi call failed")
            await real_capture(self, frame)

        monkeypatch.setattr(rtc.AudioSource, "capture_frame", capture_frame)
        try:
            since = time.monotonic()
            await speak(link, 300.0, 0.4)
            await eventually(lambda: _active_after(probe, since), 10)
            await speak(link, 650.0, 1.0)
            await eventually(lambda: any(seg.heard_frequency > 600 for s in sim.sessions
                                         for seg in s.segments))
        finally:
            await link.aclose()
    assert any(s.reason.startswith("uplink failed") for s in probe.statuses)


async def test_the_playback_sink_raising_ends_the_session_and_close_does_not_reraise(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator()
    probe = LinkProbe()
    broken = [False]

    def on_audio(pcm: bytes) -> None:
        if broken[0]:
            broken[0] = False
            raise ValueError("mixer input closed")
        probe.audio.append(pcm)

    async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN), retry=FAST_RETRY) as client:
        link = InterpreterLink("member-1", LiveKitTransport(client),
                               SessionOptions("en-US", "es-ES", "female"),
                               on_transcript=probe.on_transcript, on_audio=on_audio,
                               on_status=probe.statuses.append, config=QUICK)
        await link.start()
        broken[0] = True
        try:
            await eventually(lambda: any(s.reason.startswith("playback failed")
                                         for s in probe.statuses), 10)
            await eventually(lambda: link.state is LinkState.ACTIVE and len(sim.sessions) == 2)
        finally:
            await link.aclose()  # must not raise the task's ValueError
    assert link.state is LinkState.CLOSED


async def test_start_gives_up_when_the_interpreter_never_joins(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(agent_join_delay=None))
    probe = LinkProbe()
    config = LinkConfig(interpreter_join_timeout_s=1.0)
    async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN), retry=FAST_RETRY) as client:
        link = make_link(client, probe, config)
        began = time.monotonic()
        with pytest.raises(LinkStartTimeout, match="the interpreter did not join"):
            await link.start()
        took = time.monotonic() - began
    assert link.state is LinkState.CLOSED
    assert took < 10
    assert len(sim.sessions) == 1


async def test_start_never_waits_forever_for_a_session_that_does_not_come(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(response_delay=30.0))
    probe = LinkProbe()
    config = LinkConfig(first_session_timeout_s=1.0)
    async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN), timeout=60,
                           retry=FAST_RETRY) as client:
        link = make_link(client, probe, config)
        began = time.monotonic()
        with pytest.raises(LinkStartTimeout):
            await link.start()
        assert time.monotonic() - began < 5
    assert link.state is LinkState.CLOSED


async def test_the_link_is_active_only_once_the_interpreter_has_joined(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(agent_join_delay=1.5))
    probe = LinkProbe()
    async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN), retry=FAST_RETRY) as client:
        link = make_link(client, probe)
        began = time.monotonic()
        try:
            await link.start()
            active_after = time.monotonic() - began
            assert sim.sessions[0].client_active_at is not None  # the interpreter sees us
        finally:
            await link.aclose()
    assert active_after >= 1.5
    assert [s.state for s in probe.statuses][:1] == [LinkState.ACTIVE]


async def test_an_interpreter_that_does_not_come_back_is_reported_and_retried_with_backoff(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator()
    probe = LinkProbe()
    config = LinkConfig(interpreter_join_timeout_s=0.5, reconnect_base_delay_s=0.5,
                        reconnect_max_delay_s=2.0)
    async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN), retry=FAST_RETRY) as client:
        link = make_link(client, probe, config)
        await link.start()
        try:
            sim.faults = SimulatorFaults(agent_join_delay=None)
            await sim.agents[0].aclose()
            await asyncio.sleep(6)
        finally:
            await link.aclose()
    not_joined = [s for s in probe.statuses if s.reason == "the interpreter did not join"]
    assert len(not_joined) == 1  # one status for the episode, not one per attempt
    # Sessions spaced by 0.5 s join timeout + backoff 0.25–0.5, 0.5–1, 1–2, 1–2 ...:
    # at most 7 in 6 s (without backoff it would be one every ~0.6 s).
    assert 2 <= len(sim.sessions) - 1 <= 7


async def test_tokens_that_expire_at_once_cannot_make_the_link_churn(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(token_ttl_s=120.5))
    probe = LinkProbe()  # refresh 120 s before expiry: each session ends ~0.5 s in
    config = LinkConfig(reconnect_base_delay_s=0.5, reconnect_max_delay_s=4.0)
    async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN), retry=FAST_RETRY) as client:
        link = make_link(client, probe, config)
        await link.start()
        try:
            await asyncio.sleep(8)
        finally:
            await link.aclose()
    sessions = len(sim.sessions)
    print(f"\n{sessions} sessions in 8 s with tokens expiring 0.5 s after the join")
    assert sessions <= 7  # back-to-back it would be ~10 or more
    near_expiry = [s for s in probe.statuses if s.reason == "session token near expiry"]
    assert len(near_expiry) == 1


async def test_session_tokens_leave_the_redaction_registry_when_their_session_ends(
    make_pinch_simulator: MakeSimulator, transport_kind: str,
) -> None:
    sim = await make_pinch_simulator()
    probe = LinkProbe()
    async with transport_for(transport_kind, sim) as transport:
        before = registered_secret_count()
        link = make_link(transport, probe)
        await link.start()
        during = registered_secret_count()  # the LiveKit JWT, or the pre-signed ws_url
        await link.aclose()
        after = registered_secret_count()
    assert during == before + 1
    assert after == before


async def test_first_words_and_pauses_survive_a_session_that_takes_two_seconds_to_open(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(response_delay=2.0))
    probe = LinkProbe()
    async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN), timeout=10,
                           retry=FAST_RETRY) as client:
        link = make_link(client, probe)
        starting = asyncio.create_task(link.start())
        try:
            # Two utterances with a real 0.8 s pause (the client sends nothing: DTX),
            # all spoken before the room exists.
            await _utter(link, 300.0, 0.8)
            await asyncio.sleep(0.8)
            await _utter(link, 650.0, 0.6)
            await starting
            segments = await sim.wait_for_segments(2, timeout=15)
        finally:
            await link.aclose()
    first, second = segments[:2]
    assert first.heard_frequency == pytest.approx(300, abs=20)
    assert second.heard_frequency == pytest.approx(650, abs=20)
    # Nothing clipped at the start (WebRTC's jitter buffer may stretch a burst a little).
    assert 0.7 <= first.duration_s <= 1.2
    assert 0.5 <= second.duration_s <= 1.0
    assert link.uplink_stats.padding_queued >= 25  # the pause went into the backlog


async def _utter(link: InterpreterLink, freq: float, seconds: float) -> None:
    from tests.support.audio_runs import stereo_frame
    from tests.support.signals import tone

    signal = tone(freq, seconds, amplitude=0.3)
    for i in range(0, signal.size, 960):
        link.push_frame(stereo_frame(signal[i:i + 960]))
        await asyncio.sleep(0.02)
    link.end_of_speech(pad_ms=700)
