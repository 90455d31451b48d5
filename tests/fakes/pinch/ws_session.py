"""The WebSocket face of the simulated interpreter: one socket per session (PROTOCOLS.md §1b).

The simulator's ``GET /session?token=...`` handler hands the prepared socket to a
:class:`WebSocketInterpreter`, which runs until the socket is done:

    binary PCM16 16 kHz mono ─► soxr to 48 kHz ─► InterpreterCore.hear
    InterpreterCore ─► JSON text frames (transcripts with ``correlation_id``)
                    └► binary float32 24 kHz mono (tones), paced in real time

It sends ``{"type": "ready"}`` after ``agent_join_delay`` (``None``: never), and
only then are transcripts sent (audio arriving earlier is counted in
``audio_frames_before_ready`` and otherwise heard, as a server would buffer it).
``update_metadata`` frames are recorded and change the session's source language.
Transcript messages follow the shape the bot assumes (the reference does not show
it; see ``docs/websocket-assumptions.md``): ``type`` ``original_transcript`` /
``translated_transcript``, ``text``, ``is_final``, ``language_detected``,
``correlation_id`` — and no ``timestamp``, the case the bot must survive.

The session ends when the client closes (``client_left``), when the simulator ends
it (:meth:`WebSocketInterpreter.end`: close 4503 "session ended", 4401 "token
expired", 1001 on shutdown), when a fault drops the interpreter (4503), or when
the simulator "goes away" (:meth:`WebSocketInterpreter.abort`: the TCP connection is
cut without a close frame).
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
import soxr
from aiohttp import WSMsgType, web

from bot.tasks import cancel_and_wait
from tests.fakes.pinch.config import AgentTuning, SimulatorFaults
from tests.fakes.pinch.interpreter import FINAL_CONFIDENCE, InterpreterCore
from tests.fakes.pinch.records import SimulatedSession

log = logging.getLogger(__name__)

CLIENT_RATE: Final = 16_000
HEARING_RATE: Final = 48_000
AUDIO_RATE: Final = 24_000
PLAY_FRAME: Final = AUDIO_RATE // 50  # 20 ms
PLAY_LEAD_S: Final = 0.1  # how far ahead of real time translated audio may be sent
CLOSE_SESSION_ENDED: Final = 4503
CLOSE_TOKEN_EXPIRED: Final = 4401
CLOSE_GOING_AWAY: Final = 1001

GARBAGE_FRAMES: Final[tuple[str, ...]] = (
    '{"type": "original_transcript", "text": "cut sh',
    json.dumps({"type": "segment_started", "segment": 1}),
    json.dumps({"type": "original_transcript", "text": 42, "is_final": "yes"}),
    json.dumps({"type": "translated_transcript", "text": "x" * (10 * 1024), "is_final": True}),
)


class _SocketOutlet:
    """The core's output as text frames and paced binary float32 frames."""

    audio_rate = AUDIO_RATE
    play_frame = PLAY_FRAME

    def __init__(self, face: WebSocketInterpreter) -> None:
        self._face = face
        self._next_at = 0.0

    def message(self, kind: str, text: str, timestamp: float, is_final: bool,
                correlation: str, language: str) -> str:
        body: dict[str, object] = {
            "type": kind,
            "text": text,
            "is_final": is_final,
            "language_detected": language,
            "correlation_id": correlation,
        }
        if is_final and kind == "original_transcript":
            body["confidence"] = FINAL_CONFIDENCE
        return json.dumps(body, ensure_ascii=False)

    def garbage(self) -> Sequence[str]:
        return GARBAGE_FRAMES

    async def publish(self, payload: bytes | str) -> None:
        ws = self._face.ws
        async with asyncio.timeout(5):
            if isinstance(payload, str):
                await ws.send_str(payload)
            else:
                await ws.send_bytes(payload)

    async def play(self, chunk: npt.NDArray[np.int16]) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._next_at = max(self._next_at, now)
        ahead = self._next_at - now - PLAY_LEAD_S
        if ahead > 0:
            await asyncio.sleep(ahead)
        self._next_at += chunk.size / AUDIO_RATE
        floats = (chunk.astype(np.float32) / 32767.0).astype("<f4")
        async with asyncio.timeout(5):
            await self._face.ws.send_bytes(floats.tobytes())

    async def drain(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, self._next_at - loop.time()))


def task_failure_ending(exc: BaseException) -> tuple[str, int | None]:
    """How a session ends when one of its tasks raised ``exc``: (reason, close code).

    A send to a socket the client is closing fails with a connection reset; the
    client left (its reader sees the same close a moment later), the agent did not
    fail. Anything else is the agent's error, closed with 1011.
    """
    if isinstance(exc, ConnectionResetError):
        return "client_left", None
    return "agent_error", 1011


class WebSocketInterpreter:
    """Serves one session on its socket; :meth:`run` returns when the socket is done."""

    def __init__(
        self,
        *,
        session: SimulatedSession,
        ws: web.WebSocketResponse,
        request: web.Request,
        script: Sequence[tuple[str, str]],
        faults: SimulatorFaults,
        tuning: AgentTuning,
        next_number: Callable[[], int],
    ) -> None:
        self.session = session
        self.ws = ws
        self._request = request
        self._faults = faults
        self._core = InterpreterCore(session=session, script=script, faults=faults,
                                     tuning=tuning, next_number=next_number,
                                     outlet=_SocketOutlet(self), on_stop=self._dropped)
        self._resampler = soxr.ResampleStream(CLIENT_RATE, HEARING_RATE, 1, dtype="float32")
        self._carry = b""
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop: asyncio.Future[tuple[str, int | None]] = (
            asyncio.get_running_loop().create_future())
        self.audio_frames_before_ready = 0

    @property
    def running(self) -> bool:
        return not self.session.ended.is_set()

    async def run(self) -> None:
        self.session.client_joined_at = time.time()
        self._spawn(self._core.send_loop(), "sender")
        self._spawn(self._core.translate_loop(), "translator")
        self._spawn(self._core.play_loop(), "player")
        self._spawn(self._become_ready(), "ready")
        reader = asyncio.create_task(self._read(), name=f"pinch-ws-read:{self.session.room_name}")
        try:
            await asyncio.wait({reader, self._stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            reason, code = (self._stop.result() if self._stop.done()
                            else ("client_left", None))
            await cancel_and_wait([reader, *self._tasks])
            await self._teardown(reason, code)

    def end(self, reason: str, code: int | None) -> None:
        """End the session from the server's side with close ``code``."""
        if not self._stop.done():
            self._stop.set_result((reason, code))

    def abort(self) -> None:
        """The server is gone: cut the connection without a close frame."""
        transport = self._request.transport
        if transport is not None:
            transport.abort()
        self.end("server_gone", None)

    # -- internals -------------------------------------------------------------------------

    def _dropped(self, reason: str) -> None:
        self.end(reason, CLOSE_SESSION_ENDED)

    def _spawn(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        task = asyncio.create_task(coro, name=f"pinch-ws-{what}:{self.session.room_name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled() or (exc := task.exception()) is None:
            return
        reason, code = task_failure_ending(exc)
        if reason == "agent_error":
            log.error("ws interpreter task %s failed", task.get_name(), exc_info=exc)
        self.end(reason, code)

    async def _become_ready(self) -> None:
        delay = self._faults.agent_join_delay
        if delay is None:
            return  # never ready
        if delay > 0:
            await asyncio.sleep(delay)
        target = self.session.request.target_language
        if self.session.request.audio_output and target in self._faults.speech_unsupported_targets:
            await self.ws.send_str(json.dumps({
                "type": "error", "code": "unsupported_language",
                "message": f"targetLanguage {target} is not supported for speech output"}))
            return
        await self.ws.send_str(json.dumps({"type": "ready"}))
        self.session.client_active_at = time.time()
        self._core.client_active.set()

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is WSMsgType.BINARY:
                self._hear(message.data)
            elif message.type is WSMsgType.TEXT:
                self._control(message.data)
        self.session.client_close_code = self.ws.close_code

    def _hear(self, data: bytes) -> None:
        self.session.audio_frames_received += 1
        self.session.audio_bytes_received += len(data)
        if not self._core.client_active.is_set():
            self.audio_frames_before_ready += 1
        data = self._carry + data
        whole = len(data) - len(data) % 2
        self._carry = data[whole:]
        pcm = np.frombuffer(data[:whole], dtype="<i2").astype(np.float32)
        upsampled = self._resampler.resample_chunk(pcm)
        samples = np.clip(np.rint(upsampled), -32768, 32767).astype(np.int16)
        self._core.hear(samples, time.time())

    def _control(self, text: str) -> None:
        with contextlib.suppress(ValueError):
            body = json.loads(text)
            if isinstance(body, dict) and body.get("type") == "update_metadata":
                self.session.metadata_updates.append(body)

    async def _teardown(self, reason: str, code: int | None) -> None:
        if code is not None and not self.ws.closed:
            self.session.server_close_code = code
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await self.ws.close(code=code, message=reason.encode())
        if self.session.ended_reason is None:
            self.session.ended_reason = reason
        self.session.ended.set()
        log.debug("ws session %s ended (%s)", self.session.room_name, reason)
