"""An interpreter link: one Pinch session, joined as one participant of its LiveKit room.

Upstream, the link takes 20 ms 48 kHz stereo PCM (one member's voice, or the
channel's mix), converts it to the mono rate Pinch expects and publishes it as a
microphone track. Downstream, it subscribes to the interpreter's translated audio
(identity ``translation-agent``, track ``translated-audio`` preferred) and hands
48 kHz stereo 20 ms frames to a sink, and turns data packets into
:class:`~bot.pinch.TranscriptEvent`\\ s.

The link keeps itself alive: a supervisor task opens a session, holds the room
until it disconnects or the session's token nears expiry, then opens a new
session with exponential backoff. Status changes are reported through
``on_status`` so the owner can tell the channel. Microphone audio produced while
no room is up waits in a bounded queue (oldest dropped, counted) and is sent
once the next room is joined, so a short outage loses nothing.

Threads: everything here runs on the event loop. ``push_frame`` is cheap
(downmix + soxr ≈ tens of µs) and never awaits.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from livekit import rtc

from bot.interpretation.latency import LatencyWindow
from bot.interpretation.livekit_room import connect_room
from bot.interpretation.uplink import UplinkConverter
from bot.pinch import PinchError, PinchSession, TranscriptEvent, TranscriptParser

log = logging.getLogger(__name__)

AGENT_IDENTITY = "translation-agent"
TRANSLATED_TRACK_NAME = "translated-audio"
PLAYBACK_RATE = 48_000
PLAYBACK_CHANNELS = 2

SessionFactory = Callable[[], Awaitable[PinchSession]]


class LinkState(enum.Enum):
    NEW = "new"
    CONNECTING = "connecting"
    ACTIVE = "active"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """A state change of a link, with the reason when it is not the happy path."""

    link: str
    state: LinkState
    reason: str = ""
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, slots=True)
class LinkConfig:
    publish_rate: int = 16_000
    """Sample rate of the microphone track: 16 kHz (Pinch's recommendation) or 48 kHz."""
    capture_ms: int = 20
    """Audio per ``capture_frame`` call. Each call is an FFI round trip of ~170 µs
    whatever its length, so 40 ms halves the cost at 20 ms of extra latency."""
    uplink_queue_ms: int = 3_000
    """Microphone audio kept while no room is up; oldest dropped beyond it."""
    playback_queue_ms: int = 400
    """Capacity of the translated-audio stream (LiveKit drops its oldest beyond it)."""
    agent_track_grace_s: float = 2.0
    """How long to wait for the ``translated-audio`` track before taking any audio track."""
    refresh_before_expiry_s: float = 120.0
    """Open a new session this long before the current token expires."""
    reconnect_base_delay_s: float = 0.5
    reconnect_max_delay_s: float = 4.0
    """Kept short: a run must be back within seconds of an outage ending."""
    connect_timeout_s: float = 15.0

    def __post_init__(self) -> None:
        if self.publish_rate not in (16_000, 48_000):
            raise ValueError("publish_rate must be 16000 or 48000")
        if self.capture_ms not in (10, 20, 40, 60):
            raise ValueError("capture_ms must be 10, 20, 40 or 60")


@dataclass(slots=True)
class LinkStats:
    uplink_latency: LatencyWindow = field(default_factory=LatencyWindow)
    """From ``push_frame`` to the frame accepted by LiveKit's audio source."""
    frames_in: int = 0
    frames_published: int = 0
    uplink_dropped_frames: int = 0
    padding_frames: int = 0
    """Silence sent after utterances so the interpreter hears the pause."""
    padding_cancelled_frames: int = 0
    """Padding not sent because the member spoke again first."""
    playback_frames: int = 0
    transcripts: int = 0
    sessions_opened: int = 0
    reconnects: int = 0


class _SessionEnded(Exception):
    """Internal: the current room is over for ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InterpreterLink:
    """One Pinch session in its LiveKit room. ``start`` once, ``aclose`` always."""

    def __init__(
        self,
        name: str,
        open_session: SessionFactory,
        *,
        on_transcript: Callable[[TranscriptEvent], None],
        on_audio: Callable[[bytes], None],
        on_status: Callable[[LinkStatus], None] | None = None,
        config: LinkConfig | None = None,
    ) -> None:
        self.name = name
        self.config = config or LinkConfig()
        self.stats = LinkStats()
        self.state = LinkState.NEW
        self._open_session = open_session
        self._on_transcript = on_transcript
        self._on_audio = on_audio
        self._on_status = on_status
        self._parser = TranscriptParser()
        self._converter = UplinkConverter(self.config.publish_rate, self.config.capture_ms)
        frames_capacity = max(1, self.config.uplink_queue_ms // self.config.capture_ms)
        # (pushed at, mono PCM at the publish rate), oldest dropped when full.
        self._uplink: collections.deque[tuple[float, bytes]] = collections.deque(
            maxlen=frames_capacity)
        self._uplink_ready = asyncio.Event()
        self._first_session: asyncio.Future[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._room: rtc.Room | None = None
        self._playing_track: str | None = None
        self._last_reason = ""
        self._padding_frames = 0

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Open the first session and join its room; raises the final PinchError."""
        if self.state is not LinkState.NEW:
            raise RuntimeError(f"link {self.name} already started")
        self._first_session = asyncio.get_running_loop().create_future()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"link:{self.name}")
        try:
            await asyncio.shield(self._first_session)
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Leave the room and stop every task. Safe to call twice."""
        if self.state is LinkState.CLOSED:
            return
        self._set_state(LinkState.CLOSED, "closed")
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None

    @property
    def room_name(self) -> str | None:
        return self._room.name if self._room is not None else None

    # -- upstream ------------------------------------------------------------------

    def push_frame(self, pcm_48k_stereo: bytes) -> None:
        """Queue 20 ms of a member's voice (48 kHz stereo s16le). Never blocks."""
        if self.state is LinkState.CLOSED:
            return
        self.stats.frames_in += 1
        if self._padding_frames:
            self.stats.padding_cancelled_frames += self._padding_frames
            self._padding_frames = 0
        now = time.monotonic()
        for chunk in self._converter.push(pcm_48k_stereo):
            self._enqueue(now, chunk)

    def end_of_speech(self, pad_ms: float = 0.0) -> None:
        """The utterance ended: flush the resampler's tail, then send ``pad_ms`` of
        silence so Pinch's segmenter sees the pause.

        The padding is sent only while nothing else waits and at real-time pace, and
        the next ``push_frame`` cancels what is left of it: it never delays speech.
        """
        now = time.monotonic()
        for chunk in self._converter.flush():
            self._enqueue(now, chunk)
        self._padding_frames = max(0, round(pad_ms / self.config.capture_ms))
        if self._padding_frames:
            self._uplink_ready.set()

    def _enqueue(self, at: float, chunk: bytes) -> None:
        if len(self._uplink) == self._uplink.maxlen:
            self.stats.uplink_dropped_frames += 1  # deque drops the oldest on append
        self._uplink.append((at, chunk))
        self._uplink_ready.set()

    # -- supervisor ----------------------------------------------------------------

    async def _supervise(self) -> None:
        attempt = 0
        while True:
            try:
                self._set_state(
                    LinkState.CONNECTING if self.stats.sessions_opened == 0
                    else LinkState.RECONNECTING,
                    "opening session",
                )
                session = await self._open_session()
                self.stats.sessions_opened += 1
                await self._run_session(session)
            except _SessionEnded as ended:
                log.info("link %s: room ended (%s), reconnecting", self.name, ended.reason)
                self._set_state(LinkState.RECONNECTING, ended.reason)
                self.stats.reconnects += 1
                attempt = 0
                continue
            except PinchError as exc:
                if self._fail_first(exc):
                    return
                if not exc.retryable:
                    self._set_state(LinkState.CLOSED, f"pinch: {exc.user_message}")
                    return
                reason = f"pinch: {exc.user_message}"
            except (rtc.ConnectError, TimeoutError, OSError) as exc:
                if self._fail_first(exc):
                    return
                reason = f"livekit: {type(exc).__name__}"
            attempt += 1
            delay = min(self.config.reconnect_max_delay_s,
                        self.config.reconnect_base_delay_s * 2 ** (attempt - 1))
            delay *= random.uniform(0.5, 1.0)
            self._set_state(LinkState.RECONNECTING, reason)
            log.warning("link %s: %s; retrying in %.1f s", self.name, reason, delay)
            await asyncio.sleep(delay)

    def _first_pending(self) -> bool:
        return self._first_session is not None and not self._first_session.done()

    def _fail_first(self, exc: BaseException) -> bool:
        """During ``start`` failures go to the caller instead of being retried."""
        if self._first_pending():
            assert self._first_session is not None
            self._first_session.set_exception(exc)
            return True
        return False

    async def _run_session(self, session: PinchSession) -> None:
        """Hold the room until it ends; always leaves by raising :class:`_SessionEnded`."""
        room = rtc.Room()
        ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        tasks: list[asyncio.Task[None]] = []

        def end(reason: str) -> None:
            if not ended.done():
                ended.set_result(reason)

        room.on("disconnected", lambda reason: end(f"livekit disconnected ({reason})"))
        room.on("data_received", self._on_data)
        room.on("track_subscribed",
                lambda track, pub, participant: self._on_track(track, pub, participant,
                                                               tasks))
        room.on("participant_disconnected",
                lambda p: end("interpreter left") if p.identity == AGENT_IDENTITY else None)
        try:
            await connect_room(room, session.url, session.token.reveal(),
                               timeout=self.config.connect_timeout_s)
            self._room = room
            source = rtc.AudioSource(self.config.publish_rate, 1,
                                     queue_size_ms=max(100, 2 * self.config.capture_ms))
            track = rtc.LocalAudioTrack.create_audio_track("microphone", source)
            await room.local_participant.publish_track(
                track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE))
            tasks.append(asyncio.create_task(self._send_uplink(source),
                                             name=f"link:{self.name}:uplink"))
            tasks.append(asyncio.create_task(self._expiry_timer(session, end),
                                             name=f"link:{self.name}:expiry"))
            self._set_state(LinkState.ACTIVE, f"room {session.room_name}")
            if self._first_pending():
                assert self._first_session is not None
                self._first_session.set_result(None)
            reason = await ended
            raise _SessionEnded(reason)
        finally:
            self._room = None
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(room.disconnect(), 5)

    async def _expiry_timer(self, session: PinchSession, end: Callable[[str], None]) -> None:
        await asyncio.sleep(
            max(0.0, session.seconds_left() - self.config.refresh_before_expiry_s))
        end("session token near expiry")

    async def _send_uplink(self, source: rtc.AudioSource) -> None:
        samples = self.config.publish_rate * self.config.capture_ms // 1000
        silence = bytes(2 * samples)
        while True:
            if self._uplink:
                pushed_at, chunk = self._uplink.popleft()
                await source.capture_frame(
                    rtc.AudioFrame(chunk, self.config.publish_rate, 1, samples))
                self.stats.frames_published += 1
                self.stats.uplink_latency.add(time.monotonic() - pushed_at)
            elif self._padding_frames:
                self._padding_frames -= 1
                await source.capture_frame(
                    rtc.AudioFrame(silence, self.config.publish_rate, 1, samples))
                self.stats.padding_frames += 1
            else:
                self._uplink_ready.clear()
                await self._uplink_ready.wait()

    # -- downstream ----------------------------------------------------------------

    def _on_data(self, packet: rtc.DataPacket) -> None:
        if packet.participant is not None and packet.participant.identity != AGENT_IDENTITY:
            return
        event = self._parser.parse(packet.data)
        if event is not None:
            self.stats.transcripts += 1
            self._on_transcript(event)

    def _on_track(
        self,
        track: rtc.Track,
        publication: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
        tasks: list[asyncio.Task[None]],
    ) -> None:
        if track.kind != rtc.TrackKind.KIND_AUDIO:
            return
        preferred = (participant.identity == AGENT_IDENTITY
                     and publication.name == TRANSLATED_TRACK_NAME)
        tasks.append(asyncio.create_task(
            self._play_track(track, delay=0.0 if preferred else self.config.agent_track_grace_s),
            name=f"link:{self.name}:playback"))

    async def _play_track(self, track: rtc.Track, delay: float) -> None:
        # A non-preferred track plays only if nothing better shows up within the grace time.
        if delay:
            await asyncio.sleep(delay)
            if self._playing_track is not None:
                return
        if self._playing_track is not None:
            return
        self._playing_track = track.sid
        capacity = max(1, self.config.playback_queue_ms // 20)
        stream = rtc.AudioStream(track, sample_rate=PLAYBACK_RATE, num_channels=PLAYBACK_CHANNELS,
                                 frame_size_ms=20, capacity=capacity)
        try:
            async for event in stream:
                self.stats.playback_frames += 1
                self._on_audio(bytes(event.frame.data))
        finally:
            self._playing_track = None
            await stream.aclose()

    # -- status --------------------------------------------------------------------

    def _set_state(self, state: LinkState, reason: str) -> None:
        if self.state is LinkState.CLOSED and state is not LinkState.CLOSED:
            return
        # A new reason while reconnecting is news too (e.g. "rate limited" after "left").
        changed = state is not self.state or reason != self._last_reason
        self.state = state
        self._last_reason = reason
        if changed and self._on_status is not None:
            try:
                self._on_status(LinkStatus(self.name, state, reason))
            except Exception:
                log.exception("link %s: status callback failed", self.name)
