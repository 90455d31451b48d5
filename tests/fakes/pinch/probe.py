"""A test participant for simulator sessions: speaks tones, collects what comes back.

It joins a room with a session's token, publishes a 48 kHz mono microphone
track, and records every data packet (parsed by the bot's own
:class:`~bot.pinch.TranscriptParser`) and every loud frame of the agent's
``translated-audio`` track with its arrival time. :meth:`RoomProbe.tone_bursts`
groups those frames into bursts and measures each one's frequency.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from livekit import rtc

from bot.interpretation.livekit_room import connect_room
from bot.pinch import TranscriptEvent, TranscriptParser
from tests.fakes.pinch.agent import TRACK_NAME
from tests.fakes.pinch.tokens import AGENT_IDENTITY
from tests.support.signals import dominant_frequency, rms, tone

SAMPLE_RATE = 48_000
FRAME = 480  # 10 ms
LOUD_RMS = 1000.0  # frames of translated audio quieter than this are treated as silence
BURST_GAP_S = 0.15  # loud frames further apart than this belong to different bursts
AUDIO_CAPACITY_FRAMES = 1000  # 10 s of 10 ms frames buffered before the oldest drop


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    at: float  # unix seconds on arrival
    event: TranscriptEvent


@dataclass(slots=True)
class ToneBurst:
    started_at: float
    ended_at: float
    samples: npt.NDArray[np.int16]
    frequency: float = field(init=False)

    def __post_init__(self) -> None:
        self.frequency = dominant_frequency(self.samples, SAMPLE_RATE)


class RoomProbe:
    """``await start()``, speak, wait, inspect; ``await aclose()`` leaves the room."""

    def __init__(self, url: str, token: str) -> None:
        self._url = url
        self._token = token
        self.parser = TranscriptParser()
        self.events: list[ReceivedEvent] = []
        self.raw_packets: list[bytes] = []
        self._loud: list[tuple[float, npt.NDArray[np.int16]]] = []
        self._room: rtc.Room | None = None
        self._source: rtc.AudioSource | None = None
        self._agent_track: asyncio.Future[rtc.Track] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._mic: rtc.LocalTrackPublication | None = None
        self._phase = 0
        self.agent_left = asyncio.Event()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._agent_track = loop.create_future()
        room = self._room = rtc.Room()
        room.on("data_received", self._on_data)
        room.on("track_subscribed", self._on_track)
        room.on("participant_disconnected", self._on_left)
        await connect_room(room, self._url, self._token, timeout=15)
        self._source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=100)
        track = rtc.LocalAudioTrack.create_audio_track("microphone", self._source)
        self._mic = await room.local_participant.publish_track(
            track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        )

    @property
    def room(self) -> rtc.Room:
        assert self._room is not None
        return self._room

    async def wait_for_agent_audio(self, timeout: float = 10.0,  # noqa: ASYNC109
                                   *, heard: bool = True) -> rtc.Track:
        """The agent's ``translated-audio`` track, once subscribed (reading starts) and,
        with ``heard``, the agent subscribed to our microphone (so nothing is clipped).

        A participant rejoining under the identity that just left may never be told of
        the agent's subscription (LiveKit reports a track's first subscriber once):
        such a test passes ``heard=False`` and pauses before it speaks."""
        assert self._agent_track is not None
        assert self._mic is not None
        async with asyncio.timeout(timeout):
            track = await asyncio.shield(self._agent_track)
            if heard:
                await self._mic.wait_for_subscription()
        return track

    async def speak(self, freq_hz: float, seconds: float) -> None:
        """Publish a tone in real time (``capture_frame`` paces it)."""
        await self._publish(tone(freq_hz, seconds, SAMPLE_RATE, phase_samples=self._phase))

    async def pause(self, seconds: float) -> None:
        """Publish digital silence: a pause the agent's detector can see."""
        await self._publish(np.zeros(round(seconds * SAMPLE_RATE), dtype=np.int16))

    async def _publish(self, samples: npt.NDArray[np.int16]) -> None:
        assert self._source is not None
        whole = samples[: samples.size - samples.size % FRAME]
        for chunk in whole.reshape(-1, FRAME):
            await self._source.capture_frame(rtc.AudioFrame(chunk.tobytes(), SAMPLE_RATE, 1, FRAME))
        self._phase += whole.size

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 10.0  # noqa: ASYNC109
    ) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                raise TimeoutError("condition not met in time")
            await asyncio.sleep(0.02)

    def finals(self, kind: str) -> list[ReceivedEvent]:
        return [r for r in self.events if r.event.kind == kind and r.event.is_final]

    def tone_bursts(self) -> list[ToneBurst]:
        """Loud stretches of translated audio received so far, in arrival order."""
        bursts: list[ToneBurst] = []
        current: list[tuple[float, npt.NDArray[np.int16]]] = []
        for at, samples in self._loud:
            if current and at - current[-1][0] > BURST_GAP_S:
                bursts.append(_burst(current))
                current = []
            current.append((at, samples))
        if current:
            bursts.append(_burst(current))
        return bursts

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._room is not None:
            await asyncio.wait_for(self._room.disconnect(), 5)
        if self._source is not None:
            await self._source.aclose()

    async def __aenter__(self) -> RoomProbe:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def _on_data(self, packet: rtc.DataPacket) -> None:
        self.raw_packets.append(bytes(packet.data))
        event = self.parser.parse(packet.data)
        if event is not None:
            self.events.append(ReceivedEvent(time.time(), event))

    def _on_left(self, participant: rtc.RemoteParticipant) -> None:
        if participant.identity == AGENT_IDENTITY:
            self.agent_left.set()

    def _on_track(
        self,
        track: rtc.Track,
        publication: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        if (
            track.kind == rtc.TrackKind.KIND_AUDIO
            and publication.name == TRACK_NAME
            and self._agent_track is not None
            and not self._agent_track.done()
        ):
            self._agent_track.set_result(track)
            self._reader = asyncio.create_task(self._read(track), name="probe-translated-audio")

    async def _read(self, track: rtc.Track) -> None:
        stream = rtc.AudioStream(
            track, sample_rate=SAMPLE_RATE, num_channels=1, capacity=AUDIO_CAPACITY_FRAMES
        )
        try:
            async for event in stream:
                samples = np.frombuffer(event.frame.data, dtype=np.int16)
                if rms(samples) >= LOUD_RMS:
                    self._loud.append((time.time(), samples.copy()))
        finally:
            await stream.aclose()


def _burst(frames: list[tuple[float, npt.NDArray[np.int16]]]) -> ToneBurst:
    samples = np.concatenate([s for _, s in frames])
    return ToneBurst(frames[0][0], frames[-1][0], samples)
