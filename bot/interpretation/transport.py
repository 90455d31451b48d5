"""The seam under an interpreter link: how one Pinch session is opened, fed and heard.

Pinch offers two ways in (PROTOCOLS.md §1 and §1b): a LiveKit room per session
(:mod:`~bot.interpretation.livekit_transport`) and one WebSocket per session
(:mod:`~bot.interpretation.websocket_transport`). Everything else a link does is
the same whichever carries the session — supervision, backoff, statuses, the
uplink queue and its pauses, utterance numbers, secrets — and lives in
:mod:`~bot.interpretation.link`. A transport only knows its wire:

- :meth:`Transport.create` asks Pinch for a session (REST) and returns its
  :class:`Credentials`, whose secret the link releases when the session is over;
- :meth:`Transport.connection` makes the :class:`Connection` for those credentials:
  ``open`` joins (the room, the socket), ``interpreted`` is set once Pinch listens
  (the interpreter subscribed to us, or the socket said ``ready``), ``send`` takes
  one uplink frame at real-time pace (``resting``: the next one first wakes the
  connection), ``update`` changes languages or voice in place when the API can,
  ``aclose`` leaves (bounded, never raises).

A connection reports through the link's :class:`SessionSink` (transcripts, and
translated audio as 20 ms 48 kHz stereo frames for the mixer) and runs its tasks
in the link's :class:`SessionScope`, which supervises every one of them: a task that
fails or stops ends the session with a reason, and the scope's end is what the
link waits for. Foreign errors are translated at the transport's boundary into
:class:`TransportFailure` (reason prefixed ``livekit:`` or ``websocket:``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from bot.pinch import PinchError, TranscriptEvent, TranscriptParser
from bot.pinch.options import SessionOptions
from bot.pinch.transcripts import TranscriptFields
from bot.secrets import Secret
from bot.tasks import cancel_and_wait

if TYPE_CHECKING:
    from bot.interpretation.link_config import LinkConfig

log = logging.getLogger(__name__)


class TransportFailure(Exception):
    """A transport's own failure (its foreign cause kept as ``__cause__``); retryable."""

    retryable = True

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SessionEnded(Exception):
    """The current session is over for ``reason`` (a new one may follow)."""

    def __init__(self, reason: str, active_for: float = 0.0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.active_for = active_for


def describe_failure(exc: BaseException) -> str:
    """One short phrase for a status line: where it failed and how."""
    if isinstance(exc, PinchError):
        return f"pinch: {exc.user_message}"
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason:
        return reason
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc)
    return f"{type(exc).__name__}{': ' + text[:80] if text else ''}"


class SessionScope:
    """The life of one session: the tasks it runs, each supervised, and how it ends.

    ``end`` is idempotent (the first reason wins); ``fail`` ends it with an error
    the link raises instead (a :class:`~bot.pinch.PinchError` from the server, for
    instance). After :meth:`close` nothing new starts: late events of a session
    that is over are ignored.
    """

    def __init__(self, link_name: str) -> None:
        self.link_name = link_name
        self.ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._tasks: set[asyncio.Task[None]] = set()
        self._over = False

    @property
    def over(self) -> bool:
        return self._over or self.ended.done()

    def end(self, reason: str) -> None:
        if not self.ended.done():
            self.ended.set_result(reason)

    def fail(self, error: BaseException) -> None:
        if not self.ended.done():
            self.ended.set_exception(error)

    def spawn(self, coro: Coroutine[Any, Any, None], what: str, *,
              may_return: bool = False) -> asyncio.Task[None] | None:
        """Run ``coro`` for this session; its failure (or, unless ``may_return``,
        its return) ends the session with ``"<what> failed: ..."``/``"<what> stopped"``.
        Returns the task (``None`` once the scope is over); a task that ends, or is
        cancelled, leaves the scope."""
        if self._over:
            coro.close()
            return None
        task = asyncio.create_task(coro, name=f"link:{self.link_name}:{what}")
        task.add_done_callback(lambda t: self._task_done(t, what, may_return))
        self._tasks.add(task)
        return task

    def _task_done(self, task: asyncio.Task[None], what: str, may_return: bool) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.warning("link task %s failed: %r", task.get_name(), exc)
            self.end(f"{what} failed: {describe_failure(exc)}")
        elif not may_return:
            self.end(f"{what} stopped")

    async def close(self) -> None:
        """Stop every task of the session (bounded); nothing starts afterwards."""
        self._over = True
        if not self.ended.done():
            self.ended.cancel()
        elif not self.ended.cancelled():
            self.ended.exception()  # retrieved: a failure already raised is not "never seen"
        await cancel_and_wait(list(self._tasks))


class SessionSink(Protocol):
    """What a connection hands to its link (implemented by the link)."""

    @property
    def parser(self) -> TranscriptParser:
        """The link's tolerant transcript parser (counts what it rejects)."""

    def transcript(self, event: TranscriptEvent) -> None: ...

    def audio(self, pcm_48k_stereo: bytes) -> None:
        """One 20 ms frame of translated speech, 48 kHz stereo s16le (3,840 bytes)."""

    def audio_paused(self) -> None:
        """The translated speech stopped (a transport whose audio is not a continuous
        stream says so after a translation's last frame): playback may play out what
        it holds, and running dry now is the end of speech, not an underrun."""


class Credentials(Protocol):
    """What :meth:`Transport.create` hands out for one session."""

    @property
    def label(self) -> str:
        """The room name (LiveKit) or session id (WebSocket), for statuses."""

    @property
    def secret(self) -> Secret:
        """The session's credential; released from log redaction when the session ends."""

    def expires_in(self) -> float | None:
        """Seconds until the session's credential expires; ``None``: no expiry known."""

    def describe(self) -> str:
        """``room api-…`` or ``session ss_…``: the reason of an ACTIVE status."""


class Connection(Protocol):
    """One session's link to Pinch; made by :meth:`Transport.connection`, used once."""

    interpreted: asyncio.Event
    """Set once Pinch listens and answers: only then is audio sent and the link ACTIVE."""

    def missing(self) -> str:
        """What is still missing while ``interpreted`` is not set (a status reason)."""

    @property
    def resting(self) -> bool:
        """The connection rests (LiveKit, see its module): the next ``send`` wakes it and
        waits until Pinch listens again, so what is said meanwhile must wait, whole."""

    async def open(self) -> None:
        """Join the room / open the socket; raises on failure (its own tasks go in the scope)."""

    async def send(self, frame: bytes) -> None:
        """One uplink frame (PCM16 mono at the link's publish rate), at real-time pace."""

    async def update(self, options: SessionOptions) -> bool:
        """Apply new languages/voice to the live session; ``False`` if it cannot be done
        in place (the link then opens a new session with them)."""

    async def aclose(self) -> None:
        """Leave the room / close the socket. Bounded; never raises; safe after a failed open."""


CredentialsT = TypeVar("CredentialsT", bound=Credentials)


class Transport(Protocol[CredentialsT]):
    """One way into Pinch (see the module docstring); shared by every link of a process.

    Generic in the credentials it hands out and takes back; links hold a
    ``Transport[Any]``."""

    name: str
    """``livekit`` or ``websocket``: shown in statuses."""
    trailing_silence_ms: float
    """Silence every utterance must end with for the API to close its segment."""
    transcript_fields: TranscriptFields
    """How this API's transcript messages are read (the link's parser uses it)."""

    def check(self, config: LinkConfig) -> None:
        """Refuse (``ValueError``) a link configuration this transport cannot carry."""

    async def aclose(self) -> None:
        """Release what the transport holds for all its links (after they closed)."""

    async def create(self, options: SessionOptions) -> CredentialsT:
        """Ask Pinch for a session; raises a :class:`~bot.pinch.PinchError`."""

    def connection(self, credentials: CredentialsT, options: SessionOptions,
                   scope: SessionScope, sink: SessionSink, config: LinkConfig) -> Connection:
        """The connection for ``credentials`` (not yet open)."""
