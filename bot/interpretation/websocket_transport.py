"""The WebSocket transport: a Pinch session is one WebSocket (PROTOCOLS.md §1b).

Session: ``GET /v1/session`` (:class:`~bot.pinch.realtime.PinchRealtimeClient`) hands
out a pre-signed ``ws_url`` that must be opened within ``expires_in`` seconds; the
connection refuses to open one that is about to lapse (a new session is asked for).

Connection (aiohttp): open the socket (bounded by the link's connect timeout and by
what is left of the URL's life), then one reader task, in the session's scope:

- ``{"type": "ready"}`` → interpreted: the link turns ACTIVE and audio starts flowing;
- JSON transcripts → the link's tolerant parser (:data:`~bot.pinch.ws_protocol.TRANSCRIPT_FIELDS`);
- binary frames (float32 24 kHz mono) → :class:`~bot.interpretation.downlink.DownlinkConverter`
  → 20 ms 48 kHz stereo frames for the mixer; when no more audio comes before what
  arrived has nearly played out (:class:`~bot.interpretation.downlink.PlayoutHorizon`)
  the resampler's tail is flushed and the sink told the speech paused (the end of a
  translation: nothing else marks it);
- an error frame the bot recognises as fatal (an unsupported target language)
  fails the session with a :class:`~bot.pinch.PinchError`; others are logged once
  and counted;
- the socket closing ends the session: 4401 (token expired) and 4503 (session ended
  server-side) and a lost connection alike — the link opens a new session.

Uplink: PCM16 mono 16 kHz frames as binary messages, paced to real time with a
bounded lead (:class:`RealtimePacer`), so the pause padding the link sends after an
utterance goes out as it happens and the member's next word can still cancel it;
the link also makes every utterance end with :data:`~bot.pinch.ws_protocol.TRAILING_SILENCE_MS`
of zeros. Language and voice changes go out as ``update_metadata`` in place.
``aclose`` closes with 1000, bounded.

The aiohttp ``ClientSession`` is the transport's (made on first use inside the
running loop, closed by :meth:`WebSocketTransport.aclose`), shared by every link.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import aiohttp

from bot.interpretation.downlink import FLOAT_BYTES, DownlinkConverter, PlayoutHorizon
from bot.interpretation.transport import (
    SessionEnded,
    SessionScope,
    SessionSink,
    TransportFailure,
    describe_failure,
)
from bot.pinch import ws_protocol
from bot.pinch.options import SessionOptions
from bot.pinch.realtime import PinchRealtimeClient, RealtimeSession
from bot.pinch.transcripts import TranscriptEvent
from bot.secrets import Secret

if TYPE_CHECKING:
    from bot.interpretation.link_config import LinkConfig

log = logging.getLogger(__name__)

OPEN_MARGIN_S: Final = 2.0
"""A URL with less life left than this is not opened (its handshake could outlive it)."""
HEARTBEAT_S: Final = 15.0
"""Ping interval; a connection that answers no ping within half of it is given up."""
CLOSE_TIMEOUT_S: Final = 5.0
SEND_TIMEOUT_S: Final = 5.0
"""A send that cannot get into the socket's buffer this long (a server that stopped
reading) ends the session."""
DOWNLINK_FLUSH_MARGIN_S: Final = 0.04
"""The tail is flushed this long before the received audio would have played out: the
resampler holds up to two frames, which must reach playback before it runs dry."""
DOWNLINK_FLUSH_LEAST_S: Final = 0.04
"""Never flush sooner than this after a chunk (two frames of delivery jitter), even
when the server sends with no lead."""
MAX_MESSAGE_BYTES: Final = 4 * 1024 * 1024
"""Largest frame accepted (aiohttp's bound): ~43 s of float32 24 kHz audio."""
UPLINK_LEAD_S: Final = 0.1
"""How far ahead of real time the uplink may send (LiveKit's audio source queue alike)."""


class WebSocketCredentials:
    """A :class:`~bot.pinch.realtime.RealtimeSession` seen through the transport seam."""

    def __init__(self, session: RealtimeSession) -> None:
        self.session = session

    @property
    def label(self) -> str:
        return self.session.session_id

    @property
    def secret(self) -> Secret:
        return self.session.ws_url

    def expires_in(self) -> float | None:
        """The socket has no known end (only its URL expires, before opening)."""
        return None

    def describe(self) -> str:
        return f"session {self.session.session_id}"


class WebSocketTransport:
    """Pinch's WebSocket API. Owns ``client`` and the shared HTTP session (``aclose``)."""

    name = "websocket"
    trailing_silence_ms = ws_protocol.TRAILING_SILENCE_MS
    transcript_fields = ws_protocol.TRANSCRIPT_FIELDS

    def __init__(self, client: PinchRealtimeClient, *, heartbeat_s: float = HEARTBEAT_S,
                 open_margin_s: float = OPEN_MARGIN_S) -> None:
        self.client = client
        self._heartbeat_s = heartbeat_s
        self._open_margin_s = open_margin_s
        self._http: aiohttp.ClientSession | None = None
        self._closed = False

    def check(self, config: LinkConfig) -> None:
        if config.publish_rate != ws_protocol.UPLINK_RATE:
            raise ValueError("the WebSocket transport sends 16 kHz: publish_rate must be 16000")

    async def create(self, options: SessionOptions) -> WebSocketCredentials:
        return WebSocketCredentials(await self.client.create_session(options))

    def connection(self, credentials: WebSocketCredentials, options: SessionOptions,
                   scope: SessionScope, sink: SessionSink,
                   config: LinkConfig) -> WebSocketConnection:
        return WebSocketConnection(self._session(), credentials.session, options, scope, sink,
                                   config, heartbeat_s=self._heartbeat_s,
                                   open_margin_s=self._open_margin_s)

    def _session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise TransportFailure("websocket: the transport is closed")
        if self._http is None:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10))
        return self._http

    async def aclose(self) -> None:
        """Close the shared HTTP session and the client (links must be closed first);
        idempotent."""
        self._closed = True
        try:
            if self._http is not None:
                http, self._http = self._http, None
                await http.close()
        finally:
            await self.client.aclose()


class RealtimePacer:
    """Lets frames out no faster than real time, ``lead_s`` ahead at most.

    After a pause (nothing sent for a while) it starts afresh instead of
    bursting to catch up; a backlog drains at real-time pace after the lead.
    """

    def __init__(self, frame_s: float, lead_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._frame_s = frame_s
        self._lead_s = lead_s
        self._clock = clock
        self._next = 0.0

    def delay(self) -> float:
        """Seconds to wait before the next frame may go; books that frame."""
        now = self._clock()
        if self._next < now:
            self._next = now
        wait = self._next - now - self._lead_s
        self._next += self._frame_s
        return max(0.0, wait)


class WebSocketConnection:
    """One socket for one session (see the module docstring)."""

    def __init__(self, http: aiohttp.ClientSession, session: RealtimeSession,
                 options: SessionOptions, scope: SessionScope, sink: SessionSink,
                 config: LinkConfig, *, heartbeat_s: float, open_margin_s: float) -> None:
        self._http = http
        self._session = session
        self._options = options
        self._scope = scope
        self._sink = sink
        self._config = config
        self._heartbeat_s = heartbeat_s
        self._open_margin_s = open_margin_s
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._downlink = DownlinkConverter(ws_protocol.DOWNLINK_RATE)
        self._flush_timer: asyncio.TimerHandle | None = None
        self._horizon = PlayoutHorizon(DOWNLINK_FLUSH_MARGIN_S, DOWNLINK_FLUSH_LEAST_S)
        self._pacer = RealtimePacer(config.capture_ms / 1000, UPLINK_LEAD_S)
        self.interpreted = asyncio.Event()
        self.ignored: collections.Counter[str] = collections.Counter()
        """Frames read and not acted on, by kind (lifecycle events, rejects, audio in text mode)."""
        self._logged: set[str] = set()

    def missing(self) -> str:
        return "Pinch did not say ready"

    @property
    def resting(self) -> bool:
        """A socket never rests: it costs nothing while nobody speaks."""
        return False

    async def open(self) -> None:
        left = self._session.seconds_left() - self._open_margin_s
        if left <= 0:
            raise SessionEnded("session URL expired before it was opened")
        try:
            async with asyncio.timeout(min(self._config.connect_timeout_s, left)):
                self._ws = await self._http.ws_connect(
                    self._session.ws_url.reveal(), heartbeat=self._heartbeat_s,
                    max_msg_size=MAX_MESSAGE_BYTES)
        except TimeoutError as exc:
            raise TransportFailure("websocket: timed out") from exc
        except aiohttp.WSServerHandshakeError as exc:
            raise TransportFailure(f"websocket: handshake refused (HTTP {exc.status})") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise TransportFailure("websocket: could not connect") from exc
        self._scope.spawn(self._read(self._ws), "downlink")

    async def send(self, frame: bytes) -> None:
        ws = self._ws
        assert ws is not None
        delay = self._pacer.delay()
        if delay:
            await asyncio.sleep(delay)
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):
                await ws.send_bytes(frame)
        except TimeoutError as exc:
            raise TransportFailure("websocket: send timed out") from exc
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
            raise TransportFailure(f"websocket: send failed ({describe_failure(exc)})") from exc

    async def update(self, options: SessionOptions) -> bool:
        ws = self._ws
        if ws is None or ws.closed or self._scope.over or not self.interpreted.is_set():
            return False
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):
                await ws.send_str(ws_protocol.update_metadata(options))
        except (TimeoutError, aiohttp.ClientError, ConnectionError, RuntimeError):
            return False
        self._options = options
        return True

    async def aclose(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
        ws = self._ws
        if ws is None or ws.closed:
            return
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await ws.close(code=ws_protocol.CLOSE_NORMAL)
        except Exception as exc:
            log.warning("closing Pinch WebSocket %s failed: %r", self._session.session_id, exc)

    # -- the reader --------------------------------------------------------------------

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        parser = self._sink.parser
        async for message in ws:
            if message.type is aiohttp.WSMsgType.BINARY:
                self._audio(message.data)
            elif message.type is aiohttp.WSMsgType.TEXT:
                self._text(ws_protocol.classify(message.data, parser))
            elif message.type is aiohttp.WSMsgType.ERROR:
                break
        self._scope.end(ws_protocol.describe_close(ws.close_code))

    def _text(self, message: ws_protocol.ServerMessage) -> None:
        if isinstance(message, TranscriptEvent):
            self._sink.transcript(message)
        elif isinstance(message, ws_protocol.Ready):
            self.interpreted.set()
        elif isinstance(message, ws_protocol.ErrorFrame):
            error = ws_protocol.error_for_frame(message)
            if error is not None:
                self._scope.fail(error)
                return
            self._note("error_frame", f"Pinch sent an error frame ({message.code or '-'}): "
                                      f"{message.message[:120]}")
        elif isinstance(message, ws_protocol.Rejected):
            self._note(f"rejected_{message.reason}",
                       f"dropping a WebSocket text frame: {message.reason}")
        else:
            self.ignored[f"type_{message.type}"] += 1

    def _audio(self, data: bytes) -> None:
        if not self._options.audio_output:
            self.ignored["audio_in_text_mode"] += 1
            return
        for frame in self._downlink.push(data):
            self._sink.audio(frame)
        if self._flush_timer is not None:
            self._flush_timer.cancel()
        loop = asyncio.get_running_loop()
        seconds = len(data) / FLOAT_BYTES / ws_protocol.DOWNLINK_RATE
        self._flush_timer = loop.call_later(self._horizon.received(seconds, loop.time()),
                                            self._flush_downlink)

    def _flush_downlink(self) -> None:
        self._flush_timer = None
        if self._scope.over or not self._downlink.pending:
            return
        try:
            for frame in self._downlink.flush():
                self._sink.audio(frame)
            self._sink.audio_paused()
        except Exception as exc:  # a timer callback: the failure must still end the session
            self._scope.end(f"downlink failed: {describe_failure(exc)}")

    def _note(self, what: str, line: str) -> None:
        """Count ``what``; log its first occurrence per connection (never a payload)."""
        self.ignored[what] += 1
        if what not in self._logged:
            self._logged.add(what)
            log.warning("%s (session %s; further ones are only counted)", line,
                        self._session.session_id)
