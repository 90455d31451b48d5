"""An interpreter link: one Pinch session at a time, over either of Pinch's transports.

Upstream, the link takes 20 ms 48 kHz stereo PCM (one member's voice, or the
channel's mix), converts it to the mono rate Pinch expects and sends it through
its :class:`~bot.interpretation.transport.Transport` — a LiveKit room's microphone
track (:mod:`~bot.interpretation.livekit_transport`) or a WebSocket
(:mod:`~bot.interpretation.websocket_transport`). Downstream, the transport hands
48 kHz stereo 20 ms frames of translated speech to a sink, and transcripts, which
the link numbers by utterance (an original and its translation share the number,
see :mod:`~bot.interpretation.utterances`).

A link is ``ACTIVE`` only when it is interpreted: on LiveKit the interpreter is in
the room, its translated track is subscribed and it has subscribed to our
microphone; on the WebSocket the server said ``ready``. Only then does audio leave
the :class:`~bot.interpretation.uplink_queue.UplinkQueue`, so the first words of a
member are never spoken to nobody.

The link keeps itself alive: a supervisor task opens a session, holds it until it
ends (disconnect, interpreter gone, token expired or near expiry, the server ending
it, any failure of the tasks it runs — each one supervised in the session's
:class:`~bot.interpretation.transport.SessionScope`), then opens a new one.
Consecutive sessions are spaced by a jittered, capped backoff unless the previous
one was healthy for a while, so a session that ends at once or a token that expires
quickly cannot make it churn. Errors that retrying cannot fix (a refused token, an
unsupported language) end the link in ``FAILED``. Status changes go to
``on_status``: one per distinct reason per failure episode, never one per attempt.

The transport is shown in statuses and in :attr:`InterpreterLink.transport_name`;
:meth:`InterpreterLink.update_options` changes languages or voice in place when the
transport can (WebSocket ``update_metadata``) and says so, else the caller reopens.

``start`` returns once the first session is active, raises the first failure
(nothing is retried before the owner heard of it), or raises
:class:`LinkStartTimeout`; ``aclose`` never raises and is bounded.

Delay is bounded: once a session is live, the uplink holds at most
``LinkConfig.live_backlog_ms`` of audio not yet taken by the transport (pauses are
shortened first, then the oldest speech dropped; what waited while the session was
opening, or while a resting LiveKit connection wakes, is kept whole), and the
playback input the link feeds holds as little beyond its prebuffer (``on_audio``
returns what it dropped). Every drop is counted by cause in ``stats.behind``; the
link is :attr:`InterpreterLink.behind` while it drops, and ``on_behind`` hears once
per episode when dropping lasts (:mod:`~bot.interpretation.behind`).

Threads: everything here runs on the event loop. ``push_frame`` is cheap
(downmix + soxr ≈ tens of µs) and never awaits.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.interpretation.backlog import is_quiet
from bot.interpretation.behind import (
    DOWNLINK_DROPPED,
    TELL_AFTER_S,
    UPLINK_PAUSE_SHORTENED,
    UPLINK_SPEECH_DROPPED,
    BehindRecord,
)
from bot.interpretation.latency import LatencyWindow
from bot.interpretation.link_config import LinkConfig
from bot.interpretation.transport import (
    Connection,
    Credentials,
    SessionEnded,
    SessionScope,
    Transport,
    describe_failure,
)
from bot.interpretation.uplink import UplinkConverter
from bot.interpretation.uplink_queue import Trimmed, UplinkQueue, UplinkQueueStats
from bot.interpretation.utterances import UtteranceNumbers
from bot.log_redaction import release_secret
from bot.pinch import PinchError, TranscriptEvent, TranscriptParser
from bot.pinch.options import SessionOptions
from bot.tasks import cancel_and_wait

__all__ = [
    "InterpreterLink",
    "LinkConfig",
    "LinkStartTimeout",
    "LinkState",
    "LinkStats",
    "LinkStatus",
    "describe_failure",
]

log = logging.getLogger(__name__)

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



@dataclass(slots=True)
class LinkStats:
    uplink_latency: LatencyWindow = field(default_factory=LatencyWindow)
    """From ``push_frame`` to the frame accepted by the transport (LiveKit's audio
    source, or the WebSocket's send)."""
    frames_in: int = 0
    frames_published: int = 0
    playback_frames: int = 0
    playback_pauses: int = 0
    """Times the transport said the translated speech stopped (WebSocket only)."""
    transcripts: int = 0
    sessions_opened: int = 0
    reconnects: int = 0
    failures: int = 0
    """Sessions that failed or ended before they were healthy."""
    behind: BehindRecord = field(default_factory=BehindRecord)
    """Audio dropped (and pauses shortened) to keep the delay within the bound, by cause."""
    uplink_backlog_peak_ms: float = 0.0
    """The most audio the live uplink held, but for the one pause that ends an utterance
    and with the frame being sent, once what waited for its session to open had gone."""


@dataclass(frozen=True, slots=True)
class _Sink:
    """What the current session's connection hands the link (the seam's ``SessionSink``)."""

    parser: TranscriptParser
    transcript: Callable[[TranscriptEvent], None]
    audio: Callable[[bytes], None]
    audio_paused: Callable[[], None]


class InterpreterLink:
    """One Pinch session at a time over ``transport``. ``start`` once, ``aclose`` always."""

    def __init__(
        self,
        name: str,
        transport: Transport[Any],
        options: SessionOptions,
        *,
        on_transcript: Callable[[TranscriptEvent, int], None],
        on_audio: Callable[[bytes], float | None],
        on_audio_paused: Callable[[], None] | None = None,
        on_status: Callable[[LinkStatus], None] | None = None,
        config: LinkConfig | None = None,
        on_behind: Callable[[], None] | None = None,
    ) -> None:
        """``on_audio`` takes one frame of translated speech and may return the ms of
        audio the playback dropped to stay within its bound (counted as the link's);
        ``on_behind`` hears when the link has been dropping audio for a while."""
        self.name = name
        self.config = config or LinkConfig()
        transport.check(self.config)
        self.stats = LinkStats()
        self.state = LinkState.NEW
        self.last_reason = ""
        self._transport = transport
        self._options = options
        self._on_transcript = on_transcript
        self._on_audio = on_audio
        self._on_audio_paused = on_audio_paused
        self._on_status = on_status
        self._on_behind = on_behind
        self.parser = TranscriptParser(fields=transport.transcript_fields)
        self._sink = _Sink(self.parser, self._deliver_transcript, self._deliver_audio,
                           self._deliver_audio_paused)
        self._utterances = UtteranceNumbers()
        config = self.config
        self._converter = UplinkConverter(config.publish_rate, config.capture_ms)
        samples = config.publish_rate * config.capture_ms // 1000
        self._uplink = UplinkQueue(config.capture_ms / 1000,
                                   max(1, config.uplink_queue_ms // config.capture_ms),
                                   bytes(2 * samples),
                                   live_bound=config.live_backlog_ms // config.capture_ms,
                                   least_pause=-(-config.least_pause_ms // config.capture_ms),
                                   is_quiet=is_quiet)
        self._sending = False
        """A frame is being sent (taken from the queue, not yet accepted by the transport)."""
        self._uplink_ready = asyncio.Event()
        self._first_session: asyncio.Future[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._connection: Connection | None = None
        self._scope: SessionScope | None = None
        self._label: str | None = None
        self._episode_reasons: set[str] = set()
        self._episode_recovered = False

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Open the first session and wait until it is interpreted.

        Raises the first session's failure (a :class:`~bot.pinch.PinchError`, a
        :class:`~bot.interpretation.transport.TransportFailure`) or
        :class:`LinkStartTimeout`; the link is closed then.
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
        """Leave the session and stop every task. Safe to call twice; never raises."""
        if self.state is LinkState.CLOSED:
            return
        self._set_state(LinkState.CLOSED, "closed")
        if self._first_session is not None and not self._first_session.done():
            self._first_session.cancel()
        if self._supervisor is not None:
            # The supervisor leaves its session in its own finally; allow for that leave.
            await cancel_and_wait([self._supervisor], timeout=10)
            self._supervisor = None

    @property
    def transport_name(self) -> str:
        """``livekit`` or ``websocket``."""
        return self._transport.name

    @property
    def options(self) -> SessionOptions:
        """What the next session is opened with (and the live one, if updated in place)."""
        return self._options

    @property
    def room_name(self) -> str | None:
        """The live session's LiveKit room, or its WebSocket session id; ``None`` between."""
        return self._label

    @property
    def uplink_stats(self) -> UplinkQueueStats:
        return self._uplink.stats

    @property
    def uplink_backlog_ms(self) -> float:
        """Audio waiting to be taken by the transport, the frame being sent included."""
        return (len(self._uplink) + self._sending) * self.config.capture_ms

    @property
    def behind(self) -> bool:
        """The link dropped audio to keep within its bound in the last few seconds."""
        return self.stats.behind.behind(time.monotonic())

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
                # The state lives in the uplink sender and the session's callbacks.
                while self.state is LinkState.ACTIVE and (  # noqa: ASYNC110
                        not self._uplink.idle or self._utterances.pending()):
                    await asyncio.sleep(0.05)
        except TimeoutError:
            log.info("link %s: closing with an utterance still being interpreted", self.name)

    async def update_options(self, options: SessionOptions) -> bool:
        """New languages or voice for this link. Returns ``True`` when the live session
        took them in place (WebSocket ``update_metadata``); ``False`` when it cannot
        (LiveKit, or no session is live): later sessions use them, and a caller that
        wants them now reopens the link."""
        if self.state in (LinkState.CLOSED, LinkState.FAILED):
            return False
        self._options = options
        connection = self._connection
        if connection is None or self.state is not LinkState.ACTIVE:
            return False
        return await connection.update(options)

    # -- upstream ------------------------------------------------------------------

    def push_frame(self, pcm_48k_stereo: bytes) -> None:
        """Queue 20 ms of a member's voice (48 kHz stereo s16le). Never blocks."""
        if self.state in (LinkState.CLOSED, LinkState.FAILED):
            return
        self.stats.frames_in += 1
        now = time.monotonic()
        self._trimmed(self._uplink.push_speech(self._converter.push(pcm_48k_stereo), now), now)
        self._uplink_ready.set()

    def end_of_speech(self, pad_ms: float = 0.0) -> None:
        """The utterance ended: flush the resampler's tail, then ``pad_ms`` of pause
        (at least what the transport needs to close a segment).

        The pause is sent only while nothing else waits and at real-time pace, and
        the next ``push_frame`` cancels what is left of it: it never delays speech.
        """
        if self.state in (LinkState.CLOSED, LinkState.FAILED):
            return
        pad_ms = max(pad_ms, self._transport.trailing_silence_ms)
        pad_frames = max(0, round(pad_ms / self.config.capture_ms))
        now = time.monotonic()
        self._trimmed(self._uplink.end_of_speech(self._converter.flush(), pad_frames, now), now)
        self._uplink_ready.set()

    def _trimmed(self, trimmed: Trimmed, now: float) -> None:
        """After a push: count what the live bound cost, note the live backlog's peak."""
        frame_ms = self.config.capture_ms
        if trimmed.pause:
            self._dropped(UPLINK_PAUSE_SHORTENED, trimmed.pause * frame_ms, now)
        if trimmed.speech:
            self._dropped(UPLINK_SPEECH_DROPPED, trimmed.speech * frame_ms, now)
        queue = self._uplink
        if self.state is LinkState.ACTIVE and not queue.protected:
            held_ms = (queue.load + self._sending) * frame_ms
            if held_ms > self.stats.uplink_backlog_peak_ms:
                self.stats.uplink_backlog_peak_ms = held_ms

    def _dropped(self, cause: str, ms: float, now: float) -> None:
        if self.stats.behind.note(cause, ms, now) and self._on_behind is not None:
            log.info("link %s: behind, dropping audio for %.0f s", self.name,
                     TELL_AFTER_S)
            try:
                self._on_behind()
            except Exception:
                log.exception("link %s: behind callback failed", self.name)

    # -- supervisor ----------------------------------------------------------------

    async def _supervise(self) -> None:
        failures = 0
        while True:
            self._set_state(LinkState.CONNECTING if self.stats.sessions_opened == 0
                            else LinkState.RECONNECTING, self.last_reason, report=False)
            try:
                credentials = await self._transport.create(self._options)
                self.stats.sessions_opened += 1
                try:
                    await self._run_session(credentials)
                finally:
                    release_secret(credentials.secret.reveal())
            except SessionEnded as ended:
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
            except Exception as exc:  # transport failures and anything else: retried, reported
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

    async def _run_session(self, credentials: Credentials) -> None:
        """Hold the session until it ends; leaves by raising ``SessionEnded`` or the failure."""
        scope = SessionScope(self.name)
        self._utterances.new_session()
        connection = self._transport.connection(credentials, self._options, scope, self._sink,
                                                self.config)
        try:
            await connection.open()
            self._label = credentials.label
            waiting = asyncio.ensure_future(connection.interpreted.wait())
            either: set[asyncio.Future[Any]] = {waiting, scope.ended}
            try:
                done, _ = await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED,
                                             timeout=self.config.interpreter_join_timeout_s)
            finally:
                waiting.cancel()
            if scope.ended.done():
                raise SessionEnded(scope.ended.result(), 0.0)  # or the failure it holds
            if not done:
                raise SessionEnded(connection.missing(), 0.0)
            self._scope, self._connection = scope, connection
            scope.spawn(self._send_uplink(connection), "uplink")
            # Only now: a token already inside its refresh window ends the session at once
            # (and the backoff spaces the next), but never before the start was reported.
            expires_in = credentials.expires_in()
            if expires_in is not None:
                scope.spawn(self._expiry_timer(expires_in, scope), "expiry")
            active_since = time.monotonic()
            healthy_timer = asyncio.get_running_loop().call_later(
                self.config.healthy_session_s, self._end_episode)
            self._set_state(LinkState.ACTIVE, credentials.describe())
            first = self._first_session
            if first is not None and not first.done():
                first.set_result(None)
            try:
                reason = await scope.ended
            finally:
                healthy_timer.cancel()
            raise SessionEnded(reason, time.monotonic() - active_since)
        finally:
            self._scope = self._connection = None
            self._label = None
            await scope.close()
            await connection.aclose()

    def _deliver_transcript(self, event: TranscriptEvent) -> None:
        self.stats.transcripts += 1
        self._on_transcript(event, self._utterances.number(event))

    def _deliver_audio(self, pcm_48k_stereo: bytes) -> None:
        self.stats.playback_frames += 1
        dropped_ms = self._on_audio(pcm_48k_stereo)
        if dropped_ms:
            self._dropped(DOWNLINK_DROPPED, dropped_ms, time.monotonic())

    def _deliver_audio_paused(self) -> None:
        self.stats.playback_pauses += 1
        if self._on_audio_paused is not None:
            self._on_audio_paused()

    async def _expiry_timer(self, expires_in: float, scope: SessionScope) -> None:
        await asyncio.sleep(max(0.0, expires_in - self.config.refresh_before_expiry_s))
        scope.end("session token near expiry")

    async def _send_uplink(self, connection: Connection) -> None:
        samples = self.config.publish_rate * self.config.capture_ms // 1000
        silence = bytes(2 * samples)
        queue = self._uplink
        queue.go_live()  # what waited for the session is kept; from here the bound holds
        try:
            while True:
                item = queue.pop()
                if item is not None:
                    pushed_at, chunk = item
                    await self._send(connection, chunk)
                    self.stats.frames_published += 1
                    self.stats.uplink_latency.add(time.monotonic() - pushed_at)
                elif queue.take_padding():
                    await self._send(connection, silence)
                else:
                    self._uplink_ready.clear()
                    await self._uplink_ready.wait()
        finally:
            self._sending = False
            queue.hold()  # the next session opens with whatever waits then

    async def _send(self, connection: Connection, frame: bytes) -> None:
        queue = self._uplink
        self._sending = True
        if connection.resting:
            # The send wakes the connection and waits until Pinch listens again: what is
            # said meanwhile waits like an opening session's backlog, whole.
            queue.hold()
            await connection.send(frame)
            queue.go_live()
        else:
            await connection.send(frame)
        self._sending = False

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
