"""The ``translation-agent`` participant: hears the client, sends transcripts and tones.

One agent per session, owned by the simulator. Flow inside the room:

    client mic track ─► rtc.AudioStream (bounded) ─► EnergySegmenter ─► events
    events ─► outbox (bounded, ordered) ─► sender task ─► reliable data packets
                                                                 │  (interim and final originals)
                                                 └──► translator task (``translation_latency_s``
                                                      after the end of the utterance, as the
                                                      reference's example timestamps show)
                                                      ─► translated transcript
                                                      └──► player queue ─► translated-audio track

Translations do not hold up the sender: the next segment's interims flow while
the previous one is being translated, as with the real service.

The sender waits until the client participant is active (data sent earlier can
be lost). The agent leaves when every other participant has left (after a short
grace in which a reconnecting client may rejoin and publish a new track), when
nobody joined in time, when a fault says so, or when the simulator closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from livekit import rtc

from bot.interpretation.livekit_room import connect_room
from bot.tasks import cancel_and_wait
from tests.fakes.pinch.config import (
    AgentTuning,
    SimulatorFaults,
    language_of,
    script_line,
    translation_frequency,
)
from tests.fakes.pinch.records import SegmentRecord, SimulatedSession
from tests.fakes.pinch.segmenter import (
    FRAME,
    SAMPLE_RATE,
    EnergySegmenter,
    Interim,
    SpeechEnded,
    SpeechStarted,
)
from tests.fakes.pinch.tokens import AGENT_IDENTITY
from tests.support.signals import dominant_frequency, rms, tone

log = logging.getLogger(__name__)

TRACK_NAME: Final = "translated-audio"
OUTPUT_QUEUE_MS: Final = 200  # rtc.AudioSource buffer; capture_frame paces us in real time
OUTBOX_SIZE: Final = 256  # messages waiting for the client to become active; overflow dropped
PLAYER_QUEUE_SIZE: Final = 16  # translated tones waiting to play; overflow dropped, counted
TONE_AMPLITUDE: Final = 0.5
FINAL_CONFIDENCE: Final = 0.93
OVERSIZED_BYTES: Final = 10 * 1024

# What ``inject_garbage`` sends before each final transcript.
GARBAGE_MESSAGES: Final[tuple[bytes, ...]] = (
    b'{"type": "original_transcript", "text": "cut sh',
    b"\xff\xfe\x00not utf-8",
    json.dumps({"type": "speaker_changed", "speaker": "someone"}).encode(),
    json.dumps(
        {"type": "original_transcript", "text": 42, "timestamp": "soon", "is_final": "yes"}
    ).encode(),
    json.dumps(
        {
            "type": "translated_transcript",
            "text": "x" * OVERSIZED_BYTES,
            "timestamp": 0.0,
            "is_final": True,
        }
    ).encode(),
)


@dataclass(frozen=True, slots=True)
class _Send:
    payload: bytes


@dataclass(frozen=True, slots=True)
class _FinalOriginal:
    record: SegmentRecord


_OutboxItem = _Send | _FinalOriginal


class TranslationAgent:
    """Joins with ``start()``, leaves with ``aclose()`` (or by itself when the client leaves)."""

    def __init__(
        self,
        *,
        session: SimulatedSession,
        livekit_url: str,
        token: str,
        script: Sequence[tuple[str, str]],
        faults: SimulatorFaults,
        tuning: AgentTuning,
        next_number: Callable[[], int],
    ) -> None:
        self.session = session
        self._url = livekit_url
        self._token = token
        self._script = script
        self._faults = faults
        self._tuning = tuning
        self._next_number = next_number
        self._segmenter = EnergySegmenter(tuning)
        self._room: rtc.Room | None = None
        self._source: rtc.AudioSource | None = None
        self._outbox: asyncio.Queue[_OutboxItem] = asyncio.Queue(OUTBOX_SIZE)
        self._player: asyncio.Queue[SegmentRecord] = asyncio.Queue(PLAYER_QUEUE_SIZE)
        self._translating: asyncio.Queue[SegmentRecord] = asyncio.Queue(OUTBOX_SIZE)
        self._tasks: set[asyncio.Task[None]] = set()
        self._main: asyncio.Task[None] | None = None
        self._stop: asyncio.Future[str] | None = None
        self._client_active = asyncio.Event()
        self._listening: tuple[str, asyncio.Task[None]] | None = None  # (track sid, reader)
        self._segment_index = 0
        self._current_start_wall = 0.0
        self._interims: list[str] = []
        self._join_timer: asyncio.TimerHandle | None = None
        self._leave_timer: asyncio.TimerHandle | None = None
        self._closed = False

    async def start(self) -> None:
        """Join the room and publish ``translated-audio``; ready before the client joins."""
        loop = asyncio.get_running_loop()
        self._stop = loop.create_future()
        room = self._room = rtc.Room()
        room.on("participant_connected", self._on_participant_connected)
        room.on("participant_active", self._on_participant_active)
        room.on("participant_disconnected", self._on_participant_disconnected)
        room.on("track_subscribed", self._on_track_subscribed)
        room.on("track_unsubscribed", self._on_track_unsubscribed)
        room.on("disconnected", lambda *_: self._request_stop("room_disconnected"))
        try:
            await connect_room(room, self._url, self._token, timeout=10)
            self._source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=OUTPUT_QUEUE_MS)
            track = rtc.LocalAudioTrack.create_audio_track(TRACK_NAME, self._source)
            async with asyncio.timeout(10):
                await room.local_participant.publish_track(
                    track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
                )
        except BaseException:
            await self._teardown("start_failed")
            raise
        for participant in room.remote_participants.values():
            self._on_participant_connected(participant)
            if participant.state == rtc.ParticipantState.PARTICIPANT_STATE_ACTIVE:
                self._on_participant_active(participant)
        self._join_timer = loop.call_later(
            self._tuning.client_join_timeout_s, self._on_join_timeout
        )
        self._spawn(self._send_loop(), "sender")
        self._spawn(self._translate_loop(), "translator")
        self._spawn(self._play_loop(), "player")
        self._main = asyncio.create_task(self._run(), name=f"pinch-agent:{self.session.room_name}")

    async def aclose(self) -> None:
        """Leave the room and stop every task; safe to call twice."""
        self._request_stop("closed")
        if self._main is not None:
            await asyncio.gather(self._main, return_exceptions=True)
        else:
            await self._teardown("closed")

    @property
    def running(self) -> bool:
        return self._main is not None and not self._main.done()

    # -- room events: tiny, they run one at a time on the SDK's dispatcher ------------

    def _on_participant_connected(self, participant: rtc.RemoteParticipant) -> None:
        if participant.identity == AGENT_IDENTITY:
            return
        if self._leave_timer is not None:  # a client came back within the grace period
            self._leave_timer.cancel()
            self._leave_timer = None
        if self.session.client_joined_at is None:
            self.session.client_joined_at = time.time()
            if self._join_timer is not None:
                self._join_timer.cancel()

    def _on_participant_active(self, participant: rtc.RemoteParticipant) -> None:
        if participant.identity != AGENT_IDENTITY and not self._client_active.is_set():
            self.session.client_active_at = time.time()
            self._client_active.set()

    def _on_participant_disconnected(self, participant: rtc.RemoteParticipant) -> None:
        room = self._room
        if room is not None and not any(
            p.identity != AGENT_IDENTITY for p in room.remote_participants.values()
        ):
            # Data sent before a rejoined client is active could be lost: wait for it again.
            self._client_active.clear()
            if self._leave_timer is None:
                self._leave_timer = asyncio.get_running_loop().call_later(
                    self._tuning.rejoin_grace_s, self._request_stop, "client_left"
                )

    def _on_track_subscribed(
        self,
        track: rtc.Track,
        publication: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        if track.kind != rtc.TrackKind.KIND_AUDIO or participant.identity == AGENT_IDENTITY:
            return
        if self._listening is not None:
            self.session.ignored_tracks += 1
            return
        self._listening = (track.sid, self._spawn(self._listen(track), "listen"))

    def _on_track_unsubscribed(
        self,
        track: rtc.Track,
        publication: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        # The client unpublished or left: forget the half-heard segment, listen to the next track.
        if self._listening is not None and self._listening[0] == track.sid:
            self._listening[1].cancel()
            self._listening = None
            self._segmenter = EnergySegmenter(self._tuning)

    def _on_join_timeout(self) -> None:
        if self.session.client_joined_at is None:
            self._request_stop("join_timeout")

    # -- tasks -------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None], what: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=f"pinch-agent-{what}:{self.session.room_name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("agent task %s failed", task.get_name(), exc_info=task.exception())
            self._request_stop("agent_error")

    def _request_stop(self, reason: str) -> None:
        if self._stop is not None and not self._stop.done():
            self._stop.set_result(reason)

    async def _run(self) -> None:
        assert self._stop is not None
        reason = await self._stop
        await self._teardown(reason)

    async def _listen(self, track: rtc.Track) -> None:
        stream = rtc.AudioStream(
            track,
            sample_rate=SAMPLE_RATE,
            num_channels=1,
            capacity=self._tuning.input_capacity_frames,
        )
        try:
            async for event in stream:
                samples = np.frombuffer(event.frame.data, dtype=np.int16)
                arrived = time.time()
                for seg_event in self._segmenter.feed(samples):
                    behind = (self._segmenter.position - _position_of(seg_event)) / SAMPLE_RATE
                    self._on_segment_event(seg_event, arrived - behind)
        finally:
            await stream.aclose()

    def _on_segment_event(
        self, event: SpeechStarted | Interim | SpeechEnded, wall: float
    ) -> None:
        original, translation = script_line(self._script, self._segment_index)
        if isinstance(event, SpeechStarted):
            self._current_start_wall = wall
            self._interims = []
        elif isinstance(event, Interim):
            words = original.split()
            shown = " ".join(words[: max(1, min(event.count, len(words) - 1))])
            self._interims.append(shown)
            language = self._language(self._segmenter.segment_audio())
            self._enqueue(_Send(self._message("original_transcript", shown, wall, False,
                                              language)))
            if self._faults.drop_agent_in_segment == self._segment_index:
                self.session.agent_dropped = True
                self._request_stop("dropped")
        else:
            number = self._next_number()
            heard = dominant_frequency(event.samples, SAMPLE_RATE)
            record = SegmentRecord(
                index=self._segment_index,
                number=number,
                started_at=self._current_start_wall,
                ended_at=wall,
                samples=int(event.samples.size),
                heard_frequency=heard,
                heard_rms=rms(event.samples),
                translation_frequency=translation_frequency(number),
                original_text=original,
                translated_text=translation,
                interim_texts=list(self._interims),
                detected_language=self._language_at(heard),
            )
            self._segment_index += 1
            self.session.segments.append(record)
            if self._faults.inject_garbage:
                for garbage in GARBAGE_MESSAGES:
                    self._enqueue(_Send(garbage))
            self._enqueue(_FinalOriginal(record))

    def _enqueue(self, item: _OutboxItem) -> None:
        try:
            self._outbox.put_nowait(item)
        except asyncio.QueueFull:
            self.session.messages_dropped += 1

    def _language(self, samples: np.ndarray) -> str:
        """The language ``samples`` are "in": their tone's band, else the session's hint."""
        if samples.size < 2:
            return self.session.request.source_language
        return self._language_at(dominant_frequency(samples, SAMPLE_RATE))

    def _language_at(self, frequency_hz: float) -> str:
        band = language_of(frequency_hz, self._tuning.language_bands)
        return band or self.session.request.source_language

    def _message(self, kind: str, text: str, timestamp: float, is_final: bool,
                 language: str) -> bytes:
        body: dict[str, object] = {
            "type": kind,
            "text": text,
            "timestamp": round(timestamp, 3),
            "is_final": is_final,
            "language_detected": language,
        }
        if is_final and kind == "original_transcript":
            body["confidence"] = FINAL_CONFIDENCE
        return json.dumps(body, ensure_ascii=False).encode()

    async def _send_loop(self) -> None:
        while True:
            item = await self._outbox.get()
            await self._client_active.wait()  # again after a rejoin: the new client must be up
            if isinstance(item, _Send):
                await self._publish(item.payload)
            else:
                r = item.record
                await self._publish(
                    self._message("original_transcript", r.original_text, r.ended_at, True,
                                  r.detected_language)
                )
                r.final_original_sent_at = time.time()
                try:
                    self._translating.put_nowait(r)
                except asyncio.QueueFull:
                    self.session.messages_dropped += 1

    async def _translate_loop(self) -> None:
        while True:
            r = await self._translating.get()
            assert r.final_original_sent_at is not None
            # Made ~0.9 s after the end of the utterance (the reference's timestamps),
            # never before its original went out.
            due = max(r.ended_at + self._tuning.translation_latency_s,
                      r.final_original_sent_at) + self._faults.translation_delay
            await asyncio.sleep(max(0.0, due - time.time()))
            await self._client_active.wait()
            # Timestamped when made, like the reference's example (~0.9 s after the original).
            made_at = time.time()
            await self._publish(
                self._message("translated_transcript", r.translated_text, made_at, True,
                              r.detected_language)
            )
            r.translation_sent_at = time.time()
            try:
                self._player.put_nowait(r)
            except asyncio.QueueFull:
                self.session.audio_segments_dropped += 1

    async def _publish(self, payload: bytes) -> None:
        assert self._room is not None
        # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that
        # arrives as the publish completes, and the sender loop would then wait forever.
        async with asyncio.timeout(5):
            await self._room.local_participant.publish_data(payload, reliable=True)
        self.session.messages_sent.append(payload)

    async def _play_loop(self) -> None:
        assert self._source is not None
        source = self._source
        while True:
            record = await self._player.get()
            if self._faults.translated_audio_delay > 0:
                await asyncio.sleep(self._faults.translated_audio_delay)
            samples = tone(
                record.translation_frequency,
                record.samples / SAMPLE_RATE,
                SAMPLE_RATE,
                amplitude=TONE_AMPLITUDE,
            )
            samples = samples[: samples.size - samples.size % FRAME]
            record.audio_started_at = time.time()
            for chunk in samples.reshape(-1, FRAME):
                await source.capture_frame(
                    rtc.AudioFrame(chunk.tobytes(), SAMPLE_RATE, 1, FRAME)
                )
            await source.wait_for_playout()
            record.audio_ended_at = time.time()

    async def _teardown(self, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        if self.session.ended_reason is None:
            self.session.ended_reason = reason
        for timer in (self._join_timer, self._leave_timer):
            if timer is not None:
                timer.cancel()
        await cancel_and_wait(list(self._tasks))
        if self._room is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await self._room.disconnect()
        if self._source is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await self._source.aclose()
        self.session.ended.set()
        log.debug("agent left %s (%s)", self.session.room_name, reason)


def _position_of(event: SpeechStarted | Interim | SpeechEnded) -> int:
    if isinstance(event, SpeechStarted):
        return event.start
    if isinstance(event, Interim):
        return event.position
    return event.end
