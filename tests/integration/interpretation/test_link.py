"""An interpreter link carries speech into a Pinch session and its translation back,
over either transport (the tests taking ``pinch_transport`` run on both).

Real parts: the livekit-server on loopback and the Pinch simulator's interpreter
(in a LiveKit room, or behind a WebSocket). The speech is tones; the simulator's
translation of segment n is a tone at ``translation_frequency(n)``, so the audio
coming back identifies its segment.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest

from bot.interpretation.link import InterpreterLink, LinkConfig, LinkState, LinkStatus
from bot.interpretation.livekit_transport import LiveKitTransport
from bot.interpretation.transport import Transport
from bot.pinch import PinchClient, TranscriptEvent
from bot.pinch.options import SessionOptions
from tests.fakes.pinch import PinchSimulator, translation_frequency
from tests.support.audio_runs import run_frequencies, stereo_frame
from tests.support.signals import tone
from tests.support.waiting import eventually

FRAME = 960


class _TimedAudio(list[bytes]):
    """Translated frames as they arrived (``append`` is the link's audio sink)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []

    def append(self, pcm: bytes) -> None:
        self.arrivals.append(time.monotonic())
        super().append(pcm)


class LinkProbe:
    """Collects what a link reports."""

    GAP_S = 0.4
    """Frames arriving this much apart belong to different stretches of speech."""

    def __init__(self) -> None:
        self.transcripts: list[TranscriptEvent] = []
        self.utterances: list[int] = []
        self.audio = _TimedAudio()
        self.statuses: list[LinkStatus] = []
        self.paused: list[float] = []
        """When the transport said the translated speech stopped (monotonic)."""

    def on_audio_paused(self) -> None:
        self.paused.append(time.monotonic())

    def on_transcript(self, event: TranscriptEvent, utterance: int) -> None:
        self.transcripts.append(event)
        self.utterances.append(utterance)

    def mono_audio(self) -> np.ndarray:
        """The translated audio on its timeline: LiveKit delivers silence between
        translations, a WebSocket delivers nothing, so a pause in arrivals becomes
        300 ms of silence here (as the mixer plays it)."""
        chunks: list[bytes] = []
        last = None
        for at, pcm in zip(self.audio.arrivals, self.audio, strict=True):
            if last is not None and at - last > self.GAP_S:
                chunks.append(bytes(3840 * 15))
            chunks.append(pcm)
            last = at
        return np.frombuffer(b"".join(chunks), dtype=np.int16)[::2]

    def states(self) -> list[LinkState]:
        return [s.state for s in self.statuses]


def make_link(client: PinchClient | Transport[Any], probe: LinkProbe,
              config: LinkConfig | None = None, voice_type: str = "female",
              **options: Any) -> InterpreterLink:
    """A link for ``member-1`` (en-US → es-ES) over ``client``'s transport (a bare
    :class:`PinchClient` is the LiveKit API)."""
    transport = LiveKitTransport(client) if isinstance(client, PinchClient) else client
    return InterpreterLink("member-1", transport,
                           SessionOptions("en-US", "es-ES", voice_type, **options),
                           on_transcript=probe.on_transcript, on_audio=probe.audio.append,
                           on_audio_paused=probe.on_audio_paused,
                           on_status=probe.statuses.append, config=config)


async def speak(link: InterpreterLink, freq: float, seconds: float,
                pause_s: float = 0.8) -> None:
    """Push a tone then silence, paced like the receive layer (20 ms frames)."""
    signal = tone(freq, seconds, amplitude=0.3)
    for i in range(0, signal.size, FRAME):
        link.push_frame(stereo_frame(signal[i:i + FRAME]))
        await asyncio.sleep(0.02)
    for _ in range(int(pause_s / 0.02)):
        link.push_frame(bytes(3840))
        await asyncio.sleep(0.02)
    link.end_of_speech()


@pytest.fixture
def probe() -> LinkProbe:
    return LinkProbe()


async def test_each_spoken_segment_reaches_the_simulator_with_its_own_content(
    pinch_simulator: PinchSimulator, pinch_transport: Transport[Any], probe: LinkProbe,
) -> None:
    link = make_link(pinch_transport, probe)
    await link.start()
    try:
        await speak(link, 300.0, 1.0)
        await speak(link, 600.0, 1.0)
        segments = await pinch_simulator.wait_for_segments(2, timeout=10)
    finally:
        await link.aclose()
    assert len(pinch_simulator.sessions) == 1
    assert [round(s.heard_frequency / 50) * 50 for s in segments] == [300, 600]
    assert pinch_simulator.sessions[0].request.target_language == "es-ES"


async def test_transcripts_arrive_interim_then_final_and_each_translation_shares_its_number(
    pinch_simulator: PinchSimulator, pinch_transport: Transport[Any], probe: LinkProbe,
) -> None:
    link = make_link(pinch_transport, probe)
    await link.start()
    try:
        await speak(link, 300.0, 1.2)
        await speak(link, 600.0, 1.2)
        await eventually(lambda: sum(t.kind == "translated" for t in probe.transcripts) >= 2)
    finally:
        await link.aclose()
    kinds = [(t.kind, t.is_final) for t in probe.transcripts]
    first_final = kinds.index(("original", True))
    assert ("original", False) in kinds[:first_final]  # interim before the final
    numbered = {(t.kind, t.text): n for t, n in zip(probe.transcripts, probe.utterances,
                                                    strict=True) if t.is_final}
    script = pinch_simulator.script
    # The translation comes ~0.9 s after its original (the next interims may come first);
    # the link numbers both halves of an utterance alike.
    for number, (original, translation) in enumerate(script[:2]):
        assert numbered[("original", original)] == number
        assert numbered[("translated", translation)] == number


async def test_translated_audio_identifies_each_segment(
    pinch_simulator: PinchSimulator, pinch_transport: Transport[Any], probe: LinkProbe,
) -> None:
    link = make_link(pinch_transport, probe)
    await link.start()
    try:
        await speak(link, 300.0, 0.8)
        await speak(link, 600.0, 0.8)
        segments = await pinch_simulator.wait_for_segments(2, timeout=10, played=True)
        await asyncio.sleep(0.5)  # the last frames are in flight
    finally:
        await link.aclose()
    heard = run_frequencies(probe.mono_audio())
    expected = [translation_frequency(s.number) for s in segments]
    assert len(heard) == 2
    assert heard == pytest.approx(expected, abs=30)


async def test_publishing_at_48_khz_is_selectable(
    pinch_simulator: PinchSimulator, pinch_client: PinchClient, probe: LinkProbe,
) -> None:
    link = make_link(pinch_client, probe, LinkConfig(publish_rate=48_000, capture_ms=40))
    await link.start()
    try:
        await speak(link, 440.0, 1.0)
        segments = await pinch_simulator.wait_for_segments(1, timeout=10)
    finally:
        await link.aclose()
    assert segments[0].heard_frequency == pytest.approx(440, abs=20)


async def test_close_leaves_the_room_and_the_simulator_sees_the_client_go(
    pinch_simulator: PinchSimulator, pinch_transport: Transport[Any], probe: LinkProbe,
) -> None:
    link = make_link(pinch_transport, probe)
    await link.start()
    session = pinch_simulator.sessions[0]
    await eventually(lambda: session.client_active_at is not None)
    await link.aclose()
    assert await pinch_simulator.wait_for_session_end(session, timeout=10) == "client_left"
    assert link.state is LinkState.CLOSED
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("link:")] == []


async def test_speech_during_connection_is_delivered_once_the_room_is_up(
    pinch_simulator: PinchSimulator, pinch_transport: Transport[Any], probe: LinkProbe,
) -> None:
    link = make_link(pinch_transport, probe)
    starting = asyncio.create_task(link.start())
    signal = tone(500.0, 0.6, amplitude=0.3)
    for i in range(0, signal.size, FRAME):  # pushed at once, before the room exists
        link.push_frame(stereo_frame(signal[i:i + FRAME]))
    for _ in range(40):
        link.push_frame(bytes(3840))
    try:
        await starting
        segments = await pinch_simulator.wait_for_segments(1, timeout=10)
    finally:
        await link.aclose()
    assert segments[0].heard_frequency == pytest.approx(500, abs=20)
    assert link.uplink_stats.dropped_frames == 0


async def push_tone(link: InterpreterLink, freq: float, seconds: float) -> None:
    signal = tone(freq, seconds, amplitude=0.3)
    for i in range(0, signal.size, FRAME):
        link.push_frame(stereo_frame(signal[i:i + FRAME]))
        await asyncio.sleep(0.02)


async def test_padding_alone_ends_the_segment_when_the_member_just_stops_sending(
    pinch_simulator: PinchSimulator, pinch_transport: Transport[Any], probe: LinkProbe,
) -> None:
    link = make_link(pinch_transport, probe)
    await link.start()
    try:
        await push_tone(link, 350.0, 0.8)
        link.end_of_speech(pad_ms=700)  # no silence frames arrive: DTX
        segments = await pinch_simulator.wait_for_segments(1, timeout=10)
    finally:
        await link.aclose()
    assert segments[0].heard_frequency == pytest.approx(350, abs=20)
    assert link.uplink_stats.padding_sent >= 25  # the interpreter needs 500 ms of pause


async def test_speaking_again_cancels_the_rest_of_the_padding(
    pinch_simulator: PinchSimulator, pinch_transport: Transport[Any], probe: LinkProbe,
) -> None:
    link = make_link(pinch_transport, probe)
    await link.start()
    try:
        await push_tone(link, 350.0, 0.4)
        link.end_of_speech(pad_ms=700)
        await asyncio.sleep(0.2)
        await push_tone(link, 650.0, 0.4)
    finally:
        await link.aclose()
    assert link.uplink_stats.padding_cancelled > 0
    assert link.uplink_stats.padding_sent + link.uplink_stats.padding_cancelled == 35


async def test_text_only_links_hand_on_transcripts_and_no_translated_audio(
    pinch_simulator: PinchSimulator, pinch_transport: Transport[Any], probe: LinkProbe,
) -> None:
    link = make_link(pinch_transport, probe, audio_output=False)
    await link.start()
    try:
        await speak(link, 300.0, 1.0)
        await eventually(lambda: any(t.kind == "translated" for t in probe.transcripts))
        await asyncio.sleep(1.5)  # the time a translated tone takes to arrive
    finally:
        await link.aclose()
    assert [t.kind for t in probe.transcripts if t.is_final] == ["original", "translated"]
    assert probe.audio == []
