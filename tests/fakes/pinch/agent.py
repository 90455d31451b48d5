"""The ``translation-agent`` participant: the LiveKit face of the simulated interpreter.

One agent per LiveKit session, owned by the simulator. What it hears, says and plays
is :class:`~tests.fakes.pinch.interpreter.InterpreterCore`'s business (shared with the
WebSocket face); this class is the room around it:

    client mic track ─► rtc.AudioStream (bounded) ─► core.hear
    core ─► reliable data packets (transcripts) and the ``translated-audio`` track (tones)

The core's sender waits until the client participant is active (data sent earlier
can be lost). The agent leaves when every other participant has left (after a short
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
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from livekit import rtc

from bot.interpretation.livekit_room import connect_room
from bot.tasks import cancel_and_wait
from tests.fakes.pinch.config import AgentTuning, SimulatorFaults
from tests.fakes.pinch.interpreter import FINAL_CONFIDENCE, InterpreterCore
from tests.fakes.pinch.records import SimulatedSession
from tests.fakes.pinch.segmenter import FRAME, SAMPLE_RATE
from tests.fakes.pinch.tokens import AGENT_IDENTITY

log = logging.getLogger(__name__)

TRACK_NAME: Final = "translated-audio"
OUTPUT_QUEUE_MS: Final = 200  # rtc.AudioSource buffer; capture_frame paces us in real time
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


class _RoomOutlet:
    """The core's output as data packets and a ``translated-audio`` track."""

    audio_rate = SAMPLE_RATE
    play_frame = FRAME

    def __init__(self, agent: TranslationAgent) -> None:
        self._agent = agent

    def message(self, kind: str, text: str, timestamp: float, is_final: bool,
                correlation: str, language: str) -> bytes:
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

    def garbage(self) -> Sequence[bytes]:
        return GARBAGE_MESSAGES

    async def publish(self, payload: bytes | str) -> None:
        room = self._agent._room
        assert room is not None
        data = payload.encode() if isinstance(payload, str) else payload
        # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that
        # arrives as the publish completes, and the sender loop would then wait forever.
        async with asyncio.timeout(5):
            await room.local_participant.publish_data(data, reliable=True)

    async def play(self, chunk: npt.NDArray[np.int16]) -> None:
        source = self._agent._source
        assert source is not None
        await source.capture_frame(rtc.AudioFrame(chunk.tobytes(), SAMPLE_RATE, 1, FRAME))

    async def drain(self) -> None:
        assert self._agent._source is not None
        await self._agent._source.wait_for_playout()


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
        self._relisten_delay = faults.relisten_delay
        self._url = livekit_url
        self._token = token
        self._tuning = tuning
        self._core = InterpreterCore(session=session, script=script, faults=faults,
                                     tuning=tuning, next_number=next_number,
                                     outlet=_RoomOutlet(self), on_stop=self._request_stop)
        self._room: rtc.Room | None = None
        self._source: rtc.AudioSource | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._main: asyncio.Task[None] | None = None
        self._stop: asyncio.Future[str] | None = None
        self._client_active = self._core.client_active
        self._listening: tuple[str, asyncio.Task[None]] | None = None  # (track sid, reader)
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
        room.on("track_published", self._on_track_published)
        room.on("disconnected", lambda *_: self._request_stop("room_disconnected"))
        try:
            # A re-listen delay needs subscriptions by hand (see _on_track_published).
            options = rtc.RoomOptions(auto_subscribe=self._relisten_delay <= 0)
            await connect_room(room, self._url, self._token, timeout=10, options=options)
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
            for publication in participant.track_publications.values():
                self._on_track_published(publication, participant)
        self._join_timer = loop.call_later(
            self._tuning.client_join_timeout_s, self._on_join_timeout
        )
        self._spawn(self._core.send_loop(), "sender")
        self._spawn(self._core.translate_loop(), "translator")
        self._spawn(self._core.play_loop(), "player")
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

    def _on_track_published(self, publication: rtc.RemoteTrackPublication,
                            participant: rtc.RemoteParticipant) -> None:
        # Only with a re-listen delay (no auto-subscription): the first track at once.
        if self._relisten_delay <= 0 or participant.identity == AGENT_IDENTITY:
            return
        if publication.kind != rtc.TrackKind.KIND_AUDIO:
            return
        if self.session.tracks_listened == 0 and self._listening is None:
            publication.set_subscribed(True)
        else:
            asyncio.get_running_loop().call_later(self._relisten_delay,
                                                  publication.set_subscribed, True)

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
        self.session.tracks_listened += 1
        self._listening = (track.sid, self._spawn(self._listen(track), "listen"))

    def _on_track_unsubscribed(
        self,
        track: rtc.Track,
        publication: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        # The client unpublished or left: forget the half-heard segment, listen to the next track.
        if self._listening is not None and self._listening[0] == track.sid:
            self.session.tracks_lost += 1
            self._listening[1].cancel()
            self._listening = None
            self._core.forget_current_segment()

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
                self._core.hear(np.frombuffer(event.frame.data, dtype=np.int16), time.time())
        finally:
            await stream.aclose()

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

