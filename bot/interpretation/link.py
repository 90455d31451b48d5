"""An interpreter link: one Pinch session, joined as one participant of its LiveKit room.

Upstream, the link takes 20 ms 48 kHz stereo PCM (one member's voice, or the
channel's mix), converts it to the mono rate Pinch expects and publishes it as a
microphone track. Downstream, it subscribes to the interpreter's translated audio
(identity ``translation-agent``, track ``translated-audio`` preferred) and hands
48 kHz stereo 20 ms frames to a sink, and turns data packets into
:class:`~bot.pinch.TranscriptEvent`\\ s numbered by utterance (an original and
its translation share the number, see :mod:`~bot.interpretation.utterances`).

A link is ``ACTIVE`` only when it is interpreted: the interpreter is in the room,
its translated track is subscribed and it has subscribed to our microphone. Only
then does audio leave the :class:`~bot.interpretation.uplink_queue.UplinkQueue`,
so the first words of a member are never spoken into an empty room.

The link keeps itself alive: a supervisor task opens a session, holds the room
until it ends (disconnect, interpreter gone, token near expiry, any failure of
the tasks it runs), then opens a new one. Consecutive sessions are spaced by a
jittered, capped backoff unless the previous one was healthy for a while, so a
session that ends at once or a token that expires quickly cannot make it churn.
Errors that retrying cannot fix (a refused token, an unsupported language) end
the link in ``FAILED``. Status changes go to ``on_status``: one per distinct
reason per failure episode, never one per attempt.

``start`` returns once the first session is active, raises the first failure
(nothing is retried before the owner heard of it), or raises
:class:`LinkStartTimeout`; ``aclose`` never raises and is bounded.

Threads: everything here runs on the event loop. ``push_frame`` is cheap
(downmix + soxr ≈ tens of µs) and never awaits.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from livekit import rtc

from bot.audio.frames import CHANNELS, FRAME_MS, SAMPLE_RATE
from bot.interpretation.latency import LatencyWindow
from bot.interpretation.livekit_room import connect_room, leave_room
from bot.interpretation.uplink import UplinkConverter
from bot.interpretation.uplink_queue import UplinkQueue, UplinkQueueStats
from bot.interpretation.utterances import UtteranceNumbers
from bot.log_redaction import release_secret
from bot.pinch import PinchError, PinchSession, TranscriptEvent, TranscriptParser
from bot.tasks import cancel_and_wait

log = logging.getLogger(__name__)

AGENT_IDENTITY = "translation-agent"
TRANSLATED_TRACK_NAME = "translated-audio"
PLAYBACK_RATE = SAMPLE_RATE
PLAYBACK_CHANNELS = CHANNELS

SessionFactory = Callable[[], Awaitable[PinchSession]]
RoomFactory = Callable[[], rtc.Room]


class LinkState(enum.Enum):
    NEW = "new"
    CONNECTING = "connecting"
    ACTIVE = "active"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    """A failure retrying cannot fix; the link does nothing more until closed."""
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """A state change of a link, with the reason when it is not the happy path."""

    link: str
    state: LinkState
    reason: str = ""
    at: float = field(default_factory=time.monotonic)
    error: BaseException | None = None
    """The failure behind a ``FAILED`` status (a :class:`~bot.pinch.PinchError` usually)."""


class LinkStartTimeout(TimeoutError):
    """The first session was not interpreted in time; ``reason`` says what was missing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user_message = f"the interpreter could not be reached ({reason})"


@dataclass(frozen=True, slots=True)
class LinkConfig:
    publish_rate: int = 16_000
    """Sample rate of the microphone track: 16 kHz (Pinch's recommendation) or 48 kHz."""
    capture_ms: int = 20
    """Audio per ``capture_frame`` call. Each call is an FFI round trip of ~170 µs
    whatever its length, so 40 ms halves the cost at 20 ms of extra latency."""
    uplink_queue_ms: int = 5_000
    """Microphone audio kept while no room is up (pauses included); oldest dropped beyond it."""
    playback_queue_ms: int = 400
    """Capacity of the translated-audio stream (LiveKit drops its oldest beyond it)."""
    agent_track_grace_s: float = 2.0
    """How long to wait for the ``translated-audio`` track before taking any audio track."""
    interpreter_join_timeout_s: float = 10.0
    """A room without an interpreter listening after this long is given up and retried."""
    first_session_timeout_s: float = 30.0
    """``start`` gives up after this long (session request, join and interpreter)."""
    refresh_before_expiry_s: float = 120.0
    """Open a new session this long before the current token expires."""
    reconnect_base_delay_s: float = 0.5
    reconnect_max_delay_s: float = 8.0
    healthy_session_s: float = 10.0
    """A session active at least this long resets the backoff: the next one opens at once."""
    connect_timeout_s: float = 15.0

    def __post_init__(self) -> None:
        if self.publish_rate not in (16_000, 48_000):
            raise ValueError("publish_rate must be 16000 or 48000")
        if self.capture_ms not in (10, 20, 40, 60):
            raise ValueError("capture_ms must be 10, 20, 40 or 60")
        if self.reconnect_base_delay_s <= 0 or self.reconnect_max_delay_s < \
                self.reconnect_base_delay_s:
            raise ValueError("reconnect delays must be positive and max >= base")

    def backoff(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        """Delay before the next session after ``failures`` consecutive bad ones (0 → none)."""
        if failures <= 0:
            return 0.0
        delay = min(self.reconnect_max_delay_s,
                    self.reconnect_base_delay_s * 2.0 ** (failures - 1))
        return delay * (0.5 + 0.5 * rand())  # jitter: links that failed together part ways


@dataclass(slots=True)
class LinkStats:
    uplink_latency: LatencyWindow = field(default_factory=LatencyWindow)
    """From ``push_frame`` to the frame accepted by LiveKit's audio source."""
    frames_in: int = 0
    frames_published: int = 0
    playback_frames: int = 0
    transcripts: int = 0
    sessions_opened: int = 0
    reconnects: int = 0
    failures: int = 0
    """Sessions that failed or ended before they were healthy."""


class _SessionEnded(Exception):
    """Internal: the current room is over for ``reason``."""

    def __init__(self, reason: str, active_for: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.active_for = active_for


class _Interpreted:
    """What makes a room interpreted: the interpreter's audio and its ear on our track."""

    def __init__(self) -> None:
        self.hearing_us = False
        self.playing = False
        self.playing_track: str | None = None
        self.event = asyncio.Event()

    def update(self) -> None:
        if self.hearing_us and self.playing:
            self.event.set()

    def missing(self) -> str:
        if not self.playing:
            return "the interpreter did not join"
        return "the interpreter did not subscribe to our audio"


class InterpreterLink:
    """One Pinch session in its LiveKit room. ``start`` once, ``aclose`` always."""

    def __init__(
        self,
        name: str,
        open_session: SessionFactory,
        *,
        on_transcript: Callable[[TranscriptEvent, int], None],
        on_audio: Callable[[bytes], None],
        on_status: Callable[[LinkStatus], None] | None = None,
        config: LinkConfig | None = None,
        room_factory: RoomFactory = rtc.Room,
    ) -> None:
        self.name = name
        self.config = config or LinkConfig()
        self.stats = LinkStats()
        self.state = LinkState.NEW
        self.last_reason = ""
        self._open_session = open_session
        self._on_transcript = on_transcript
        self._on_audio = on_audio
        self._on_status = on_status
        self._room_factory = room_factory
        self._parser = TranscriptParser()
        self._utterances = UtteranceNumbers()
        self._converter = UplinkConverter(self.config.publish_rate, self.config.capture_ms)
        samples = self.config.publish_rate * self.config.capture_ms // 1000
        self._uplink = UplinkQueue(self.config.capture_ms / 1000,
                                   max(1, self.config.uplink_queue_ms // self.config.capture_ms),
                                   bytes(2 * samples))
        self._uplink_ready = asyncio.Event()
        self._first_session: asyncio.Future[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._room: rtc.Room | None = None
        self._episode_reasons: set[str] = set()
        self._episode_recovered = False

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Open the first session and wait until it is interpreted.

        Raises the first session's failure (a :class:`~bot.pinch.PinchError`, a
        LiveKit error) or :class:`LinkStartTimeout`; the link is closed then.
        """
        if self.state is not LinkState.NEW:
            raise RuntimeError(f"link {self.name} already started")
        self._first_session = asyncio.get_running_loop().create_future()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"link:{self.name}")
        deadline = asyncio.timeout(self.config.first_session_timeout_s)
        try:
            async with deadline:
                await asyncio.shield(self._first_session)
        except BaseException as exc:
            reason = self.last_reason
            await self.aclose()
            if isinstance(exc, TimeoutError) and deadline.expired():
                raise LinkStartTimeout(reason or "no session in time") from None
            raise

    async def aclose(self) -> None:
        """Leave the room and stop every task. Safe to call twice; never raises."""
        if self.state is LinkState.CLOSED:
            return
        self._set_state(LinkState.CLOSED, "closed")
        if self._first_session is not None and not self._first_session.done():
            self._first_session.cancel()
        if self._supervisor is not None:
            # The supervisor leaves its room in its own finally; allow for that leave.
            await cancel_and_wait([self._supervisor], timeout=10)
            self._supervisor = None

    @property
    def room_name(self) -> str | None:
        return self._room.name if self._room is not None else None

    @property
    def uplink_stats(self) -> UplinkQueueStats:
        return self._uplink.stats

    async def drain(self, timeout: float, pause_ms: float = 700.0) -> None:  # noqa: ASYNC109
        """Let what was said be interpreted before the link closes (a stop, a shutdown).

        If an utterance is under way (audio waiting, or transcripts still due), the
        utterance is ended with ``pause_ms`` of pause, what waits is sent, and the
        transcripts still due are awaited, for at most ``timeout`` s. Never raises.
        """
        if self.state is not LinkState.ACTIVE:
            return
        if self._uplink.idle and not self._utterances.pending():
            return
        self.end_of_speech(pad_ms=pause_ms)
        try:
            async with asyncio.timeout(timeout):
                # The state lives in the uplink sender and the room's data callbacks.
                while self.state is LinkState.ACTIVE and (  # noqa: ASYNC110
                        not self._uplink.idle or self._utterances.pending()):
                    await asyncio.sleep(0.05)
        except TimeoutError:
            log.info("link %s: closing with an utterance still being interpreted", self.name)

    # -- upstream ------------------------------------------------------------------

    def push_frame(self, pcm_48k_stereo: bytes) -> None:
        """Queue 20 ms of a member's voice (48 kHz stereo s16le). Never blocks."""
        if self.state in (LinkState.CLOSED, LinkState.FAILED):
            return
        self.stats.frames_in += 1
        self._uplink.push_speech(self._converter.push(pcm_48k_stereo), time.monotonic())
        self._uplink_ready.set()

    def end_of_speech(self, pad_ms: float = 0.0) -> None:
        """The utterance ended: flush the resampler's tail, then ``pad_ms`` of pause.

        The pause is sent only while nothing else waits and at real-time pace, and
        the next ``push_frame`` cancels what is left of it: it never delays speech.
        """
        if self.state in (LinkState.CLOSED, LinkState.FAILED):
            return
        pad_frames = max(0, round(pad_ms / self.config.capture_ms))
        self._uplink.end_of_speech(self._converter.flush(), pad_frames, time.monotonic())
        self._uplink_ready.set()

    # -- supervisor ----------------------------------------------------------------

    async def _supervise(self) -> None:
        failures = 0
        while True:
            self._set_state(LinkState.CONNECTING if self.stats.sessions_opened == 0
                            else LinkState.RECONNECTING, self.last_reason, report=False)
            try:
                session = await self._open_session()
                self.stats.sessions_opened += 1
                try:
                    await self._run_session(session)
                finally:
                    release_secret(session.token.reveal())
            except _SessionEnded as ended:
                reason, healthy = ended.reason, ended.active_for >= self.config.healthy_session_s
                self.stats.reconnects += 1
                if self._fail_first(LinkStartTimeout(reason)):
                    return
            except PinchError as exc:
                if self._fail_first(exc):
                    return
                reason, healthy = f"pinch: {exc.user_message}", False
                if not exc.retryable:
                    self._set_state(LinkState.FAILED, reason, error=exc)
                    return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # LiveKit errors and anything else: retried, reported
                if self._fail_first(exc):
                    return
                reason, healthy = describe_failure(exc), False
                log.debug("link %s: session failed", self.name, exc_info=True)
            failures = 0 if healthy else failures + 1
            self.stats.failures += 0 if healthy else 1
            self._set_state(LinkState.RECONNECTING, reason)
            delay = self.config.backoff(failures)
            log.info("link %s: %s; next session in %.1f s", self.name, reason, delay)
            if delay:
                await asyncio.sleep(delay)

    def _fail_first(self, exc: BaseException) -> bool:
        """During ``start`` a failure goes to the caller instead of being retried."""
        first = self._first_session
        if first is not None and not first.done():
            self.last_reason = getattr(exc, "reason", None) or describe_failure(exc)
            first.set_exception(exc)
            return True
        return False

    async def _run_session(self, session: PinchSession) -> None:
        """Hold the room until it ends; leaves by raising ``_SessionEnded`` or the failure."""
        room = self._room_factory()
        self._utterances.new_session()
        ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        tasks: list[asyncio.Task[None]] = []
        interpreted = _Interpreted()
        active_since: float | None = None

        def end(reason: str) -> None:
            if not ended.done():
                ended.set_result(reason)

        over = False  # room events can arrive after the session ended: they start nothing

        def spawn(coro: Coroutine[Any, Any, None], what: str) -> None:
            if over:
                coro.close()
                return
            task = asyncio.create_task(coro, name=f"link:{self.name}:{what}")
            task.add_done_callback(lambda t: _ended_by(t, what, end))
            tasks.append(task)

        def on_track(track: rtc.Track, publication: rtc.RemoteTrackPublication,
                     participant: rtc.RemoteParticipant) -> None:
            if track.kind != rtc.TrackKind.KIND_AUDIO:
                return
            preferred = (participant.identity == AGENT_IDENTITY
                         and publication.name == TRANSLATED_TRACK_NAME)
            delay = 0.0 if preferred else self.config.agent_track_grace_s
            spawn(self._play_track(track, delay, interpreted), "playback")

        def on_local_subscribed(_track: rtc.Track) -> None:
            interpreted.hearing_us = True
            interpreted.update()

        room.on("disconnected", lambda reason: end(f"livekit disconnected ({reason})"))
        room.on("data_received", self._on_data)
        room.on("track_subscribed", on_track)
        room.on("local_track_subscribed", on_local_subscribed)
        room.on("participant_disconnected",
                lambda p: end("interpreter left") if p.identity == AGENT_IDENTITY else None)
        try:
            await connect_room(room, session.url, session.token.reveal(),
                               timeout=self.config.connect_timeout_s)
            self._room = room
            source = rtc.AudioSource(self.config.publish_rate, 1,
                                     queue_size_ms=max(100, 2 * self.config.capture_ms))
            track = rtc.LocalAudioTrack.create_audio_track("microphone", source)
            async with asyncio.timeout(self.config.connect_timeout_s):
                await room.local_participant.publish_track(
                    track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE))
            waiting = asyncio.ensure_future(interpreted.event.wait())
            either: set[asyncio.Future[Any]] = {waiting, ended}
            try:
                done, _ = await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED,
                                             timeout=self.config.interpreter_join_timeout_s)
            finally:
                waiting.cancel()
            if ended.done():
                raise _SessionEnded(ended.result(), 0.0)
            if not done:
                raise _SessionEnded(interpreted.missing(), 0.0)
            spawn(self._send_uplink(source), "uplink")
            # Only now: a token already inside its refresh window ends the session at once
            # (and the backoff spaces the next), but never before the start was reported.
            spawn(self._expiry_timer(session, end), "expiry")
            active_since = time.monotonic()
            healthy_timer = asyncio.get_running_loop().call_later(
                self.config.healthy_session_s, self._end_episode)
            self._set_state(LinkState.ACTIVE, f"room {session.room_name}")
            first = self._first_session
            if first is not None and not first.done():
                first.set_result(None)
            try:
                reason = await ended
            finally:
                healthy_timer.cancel()
            raise _SessionEnded(reason, time.monotonic() - active_since)
        finally:
            over = True
            self._room = None
            await cancel_and_wait(tasks)
            await leave_room(room)

    async def _expiry_timer(self, session: PinchSession, end: Callable[[str], None]) -> None:
        await asyncio.sleep(
            max(0.0, session.seconds_left() - self.config.refresh_before_expiry_s))
        end("session token near expiry")

    async def _send_uplink(self, source: rtc.AudioSource) -> None:
        rate = self.config.publish_rate
        samples = rate * self.config.capture_ms // 1000
        silence = bytes(2 * samples)
        queue = self._uplink
        while True:
            item = queue.pop()
            if item is not None:
                pushed_at, chunk = item
                await source.capture_frame(rtc.AudioFrame(chunk, rate, 1, samples))
                self.stats.frames_published += 1
                self.stats.uplink_latency.add(time.monotonic() - pushed_at)
            elif queue.take_padding():
                await source.capture_frame(rtc.AudioFrame(silence, rate, 1, samples))
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
            self._on_transcript(event, self._utterances.number(event))

    async def _play_track(self, track: rtc.Track, delay: float,
                          interpreted: _Interpreted) -> None:
        # A non-preferred track plays only if nothing better shows up within the grace time.
        if delay:
            await asyncio.sleep(delay)
        if interpreted.playing_track is not None:
            return
        interpreted.playing_track = track.sid
        interpreted.playing = True
        interpreted.update()
        capacity = max(1, self.config.playback_queue_ms // FRAME_MS)
        stream = rtc.AudioStream(track, sample_rate=PLAYBACK_RATE, num_channels=PLAYBACK_CHANNELS,
                                 frame_size_ms=FRAME_MS, capacity=capacity)
        try:
            async for event in stream:
                self.stats.playback_frames += 1
                self._on_audio(bytes(event.frame.data))
        finally:
            if interpreted.playing_track == track.sid:
                interpreted.playing_track = None
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await stream.aclose()

    # -- status --------------------------------------------------------------------

    def _end_episode(self) -> None:
        """The session has been healthy for a while: the next failure is news again."""
        self._episode_reasons.clear()
        self._episode_recovered = False

    def _set_state(self, state: LinkState, reason: str, *, report: bool = True,
                   error: BaseException | None = None) -> None:
        if self.state is LinkState.CLOSED:
            return
        previous = self.state
        self.state = state
        self.last_reason = reason
        if not report or self._on_status is None:
            return
        if state is LinkState.RECONNECTING:
            # One status per distinct reason per failure episode, never one per attempt.
            if reason in self._episode_reasons:
                return
            self._episode_reasons.add(reason)
        elif state is LinkState.ACTIVE and self._episode_reasons:
            # Back in the middle of an episode: said once, not after every short session.
            if self._episode_recovered:
                return
            self._episode_recovered = True
        elif state is previous and state is not LinkState.ACTIVE:
            return
        try:
            self._on_status(LinkStatus(self.name, state, reason, error=error))
        except Exception:
            log.exception("link %s: status callback failed", self.name)


def describe_failure(exc: BaseException) -> str:
    """One short phrase for a status line: where it failed and how."""
    if isinstance(exc, PinchError):
        return f"pinch: {exc.user_message}"
    if isinstance(exc, LinkStartTimeout):
        return exc.reason
    if isinstance(exc, TimeoutError):
        return "livekit: timed out"
    if isinstance(exc, rtc.ConnectError):
        return "livekit: could not connect"
    text = str(exc)
    return f"livekit: {type(exc).__name__}{': ' + text[:80] if text else ''}"


def _ended_by(task: asyncio.Task[None], what: str, end: Callable[[str], None]) -> None:
    """A task of the session stopped: a failure (or an unexpected return) ends the session."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.warning("link task %s failed: %r", task.get_name(), exc)
        end(f"{what} failed: {describe_failure(exc)}")
    elif what in ("uplink", "expiry"):
        end(f"{what} stopped")
