"""The running receive layer: socket hand-off, a decoding thread, an output queue.

::

    socket reader thread ──feed()──► packet queue ──► decoding thread ──► output queue
    (discord.py's; parse +           (bounded:        (DAVE, jitter,      (bounded; read
     transport decrypt only)          drops newest)    Opus, 20 ms ticks)  with async for)

Why a thread for decoding: Opus decoding costs tens of µs per frame per speaker
(measured in tests/benchmarks/bench_receive_path.py) and libopus releases the GIL
through ctypes, so it runs beside the event loop instead of on it; control changes
(ops 5/11/12/13, reconnect) are queued to the same thread so it alone owns the
per-SSRC state. ``feed`` never raises into discord.py and never blocks.

Queues and drop policies:

- packet queue: :data:`PACKET_QUEUE_MS` of audio for :data:`SPEAKERS_BUDGET`
  speakers; when full the *new* packet is dropped (``queue_full``): the decoding
  thread is behind and older packets are already in the jitter buffer's future.
- output queue: :data:`OUTPUT_QUEUE_MS` of audio for the same budget; when the
  consumer stalls the *oldest* item is dropped (``output_full``) so that it
  resumes with current speech.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Final

from bot.voice.events import ReceiveEvent, ReceiveStats
from bot.voice.pipeline import DaveSource, EncodedPacket, ReceivePipeline
from bot.voice.rtp import DropReason

_log = logging.getLogger(__name__)

FRAME_MS: Final = 20
SPEAKERS_BUDGET: Final = 8
PACKET_QUEUE_MS: Final = 500
OUTPUT_QUEUE_MS: Final = 2000
PACKET_QUEUE_SIZE: Final = PACKET_QUEUE_MS // FRAME_MS * SPEAKERS_BUDGET
OUTPUT_QUEUE_SIZE: Final = OUTPUT_QUEUE_MS // FRAME_MS * SPEAKERS_BUDGET
TICK_SECONDS: Final = FRAME_MS / 1000
_CLOSE_TIMEOUT: Final = 2.0
_ERROR_LOG_INTERVAL: Final = 10.0

Control = Callable[[ReceivePipeline, float], list[ReceiveEvent] | None]


class _State(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    CLOSED = "closed"


class ReceiverClosedError(RuntimeError):
    """The receiver was closed (or never started)."""


class VoiceReceiver:
    """Owns the decoding thread and both queues of one voice connection.

    Lifecycle: ``await start()`` → ``feed()`` from the socket thread → ``aclose()``
    (idempotent). ``async for item in receiver`` yields :class:`PcmFrame` and
    :class:`SpeakingEvent` until the receiver is closed.
    """

    def __init__(
        self,
        *,
        dave: DaveSource,
        self_user_id: int | None = None,
        is_bot: Callable[[int], bool | None] = lambda _member: None,
        clock: Callable[[], float] = time.monotonic,
        pipeline: ReceivePipeline | None = None,
    ) -> None:
        self._pipeline = pipeline or ReceivePipeline(dave=dave, self_user_id=self_user_id)
        self.stats: ReceiveStats = self._pipeline.stats
        self._is_bot = is_bot
        self._bots: dict[int, bool] = {}
        self._clock = clock
        self._packets: deque[EncodedPacket] = deque()
        self._controls: deque[Control] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._output: asyncio.Queue[ReceiveEvent | None] | None = None
        self._state = _State.NEW
        self._last_error_log = -_ERROR_LOG_INTERVAL

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        if self._state is not _State.NEW:
            raise ReceiverClosedError("a receiver starts once")
        self._loop = asyncio.get_running_loop()
        self._output = asyncio.Queue(maxsize=OUTPUT_QUEUE_SIZE)
        self._thread = threading.Thread(target=self._run, name="voice-receive-decoder", daemon=True)
        self._state = _State.RUNNING
        self._thread.start()

    async def aclose(self) -> None:
        """Stop the decoding thread (flushing buffered audio) and end iteration."""
        if self._state is not _State.RUNNING:
            self._state = _State.CLOSED
            return
        self._state = _State.CLOSED
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            await asyncio.to_thread(thread.join, _CLOSE_TIMEOUT)
            if thread.is_alive():
                _log.warning("voice decoding thread did not stop within %.1f s", _CLOSE_TIMEOUT)
        self._put(None)

    async def __aenter__(self) -> VoiceReceiver:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    # -- inputs --------------------------------------------------------------------

    def feed(self, datagram: bytes) -> None:
        """Socket-listener callback (discord.py's reader thread): short, never raises."""
        try:
            packet = self._pipeline.admit(datagram, self._clock())
            if packet is None:
                return
            if self._state is not _State.RUNNING:
                self.stats.drop(DropReason.NOT_RUNNING)
                return
            if len(self._packets) >= PACKET_QUEUE_SIZE:
                self.stats.drop(DropReason.QUEUE_FULL)
                return
            self._packets.append(packet)
            self._wake.set()
        except Exception:  # a bug here must not kill discord.py's reader thread
            self._log_error("voice receive: unexpected error on a datagram")

    def set_transport(self, mode: str, secret_key: bytes | list[int]) -> None:
        """op 4: new key and mode (takes effect for the next datagram)."""
        self._pipeline.set_transport(mode, secret_key)

    def bind(self, ssrc: int, member_id: int) -> None:
        """op 5 / op 12: ``ssrc`` carries ``member_id``'s voice."""
        self._control(lambda pipeline, _now: pipeline.bind(ssrc, member_id))

    def clients_connected(self, member_ids: list[int]) -> None:
        """op 11."""
        self._control(lambda pipeline, _now: pipeline.clients_connected(member_ids))

    def client_disconnected(self, member_id: int) -> None:
        """op 13: the member left; their decoders are reset."""
        self._control(lambda pipeline, now: pipeline.client_disconnected(member_id, now))

    def reset_streams(self) -> None:
        """Reconnect: all decoders and buffers start afresh."""
        self._control(lambda pipeline, now: pipeline.reset(now))

    def is_bot(self, member_id: int) -> bool:
        """Whether ``member_id`` is a bot account (cached once the lookup knows)."""
        known = self._bots.get(member_id)
        if known is None:
            try:
                known = self._is_bot(member_id)
            except Exception:
                _log.exception("voice receive: bot lookup failed for a member")
                return False
            if known is None:  # not in the cache yet: ask again next time
                return False
            self._bots[member_id] = known
        return known

    # -- outputs -------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[ReceiveEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ReceiveEvent]:
        if self._output is None:
            raise ReceiverClosedError("start the receiver before reading from it")
        while True:
            item = await self._output.get()
            if item is None:
                return
            yield item

    # -- decoding thread -----------------------------------------------------------

    def _control(self, change: Control) -> None:
        self._controls.append(change)
        self._wake.set()

    def _run(self) -> None:
        pipeline = self._pipeline
        next_tick = self._clock()
        while True:
            self._wake.wait(TICK_SECONDS)
            self._wake.clear()
            events: list[ReceiveEvent] = []
            try:
                while self._controls:
                    result = self._controls.popleft()(pipeline, self._clock())
                    if result:
                        events += result
                while self._packets:
                    events += pipeline.process(self._packets.popleft())
                now = self._clock()
                if now >= next_tick:
                    events += pipeline.tick(now)
                    next_tick = now + TICK_SECONDS
                if self._stop.is_set():
                    events += pipeline.close(self._clock())
            except Exception:
                self._log_error("voice receive: decoding thread error (packets dropped)")
            if events:
                self._deliver_threadsafe(events)
            if self._stop.is_set():
                return

    def _log_error(self, message: str) -> None:
        """Log with traceback, at most once per interval per receiver (a bug repeats per packet)."""
        now = time.monotonic()
        if now - self._last_error_log >= _ERROR_LOG_INTERVAL:
            self._last_error_log = now
            _log.exception(message)

    def _deliver_threadsafe(self, events: list[ReceiveEvent]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed since the check
            loop.call_soon_threadsafe(self._deliver, events)

    def _deliver(self, events: list[ReceiveEvent]) -> None:
        for event in events:
            self._put(event)

    def _put(self, item: ReceiveEvent | None) -> None:
        queue = self._output
        if queue is None:
            return
        if queue.full():
            queue.get_nowait()
            self.stats.drop(DropReason.OUTPUT_FULL)
        queue.put_nowait(item)
