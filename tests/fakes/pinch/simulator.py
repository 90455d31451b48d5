"""The Pinch-compatible simulator: one aiohttp server speaking both of Pinch's APIs.

LiveKit API: ``POST /api/beta1/session`` authenticates the Bearer token, applies
the configured faults, validates the body, mints a LiveKit token for the real
local server (grants of the reference's sample JWT), starts a
:class:`~tests.fakes.pinch.agent.TranslationAgent` in the new room and answers
``{"url", "token", "room_name"}`` once the agent is in.

WebSocket API: ``GET /v1/session`` does the same checks on its query and answers
``{"session_id", "ws_url", "expires_in"}``; ``ws_url`` points at this server's
``/session?token=...``, served by a
:class:`~tests.fakes.pinch.ws_session.WebSocketInterpreter` (a token is good once,
until it expires: later, the socket is closed with 4401).

Both faces share the interpreter's behaviour (:mod:`~tests.fakes.pinch.interpreter`),
the call counter, the faults and the simulator-wide segment numbers. Everything is
recorded in :attr:`PinchSimulator.calls` and :attr:`PinchSimulator.sessions`.

:attr:`PinchSimulator.faults` may be replaced while running: HTTP faults apply
from the next call, interpreter faults to sessions created afterwards. Faults on
demand: :meth:`~PinchSimulator.end_session` (the server ends a session: the agent
leaves / close 4503), :meth:`~PinchSimulator.expire_session` (close 4401),
:meth:`~PinchSimulator.go_away` and :meth:`~PinchSimulator.come_back` (the server
is gone: nothing listens, live sockets are cut; then it listens again on the same
port).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import enum
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Final

from aiohttp import web

from bot.languages import SUPPORTED
from bot.tasks import cancel_and_wait
from tests.fakes.pinch import http_api, ws_api
from tests.fakes.pinch.agent import TranslationAgent
from tests.fakes.pinch.config import DEFAULT_SCRIPT, AgentTuning, SimulatorFaults
from tests.fakes.pinch.records import CallRecord, SegmentRecord, SessionRequest, SimulatedSession
from tests.fakes.pinch.tokens import agent_token, client_token
from tests.fakes.pinch.ws_session import (
    CLOSE_GOING_AWAY,
    CLOSE_SESSION_ENDED,
    CLOSE_TOKEN_EXPIRED,
    WebSocketInterpreter,
)

log = logging.getLogger(__name__)

SESSION_PATH: Final = "/api/beta1/session"
WS_SESSION_PATH: Final = "/v1/session"
WS_SOCKET_PATH: Final = "/session"
TOKEN_TTL: Final = datetime.timedelta(hours=1)
EXPIRED_TTL: Final = datetime.timedelta(minutes=-5)
_POLL_S: Final = 0.02
SHUTDOWN_GRACE_S: Final = 1.0


class _State(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    CLOSED = "closed"


class PinchSimulator:
    """A fake Pinch service on loopback. ``await start()`` → base URL; ``await aclose()``."""

    def __init__(
        self,
        *,
        livekit_url: str,
        livekit_api_key: str,
        livekit_api_secret: str,
        api_token: str = "sim-pinch-token",
        script: Sequence[tuple[str, str]] = DEFAULT_SCRIPT,
        scripts: Mapping[str, Sequence[tuple[str, str]]] | None = None,
        faults: SimulatorFaults | None = None,
        tuning: AgentTuning | None = None,
        languages: Collection[str] = tuple(SUPPORTED),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.livekit_url = livekit_url
        self._api_key = livekit_api_key
        self._api_secret = livekit_api_secret
        self.api_token = api_token
        self.script = list(script)
        self.scripts = {target: list(lines) for target, lines in (scripts or {}).items()}
        """Target language → its own script (the translations in that language); a
        session into any other target follows ``script``."""
        self.faults = faults or SimulatorFaults()
        self.tuning = tuning or AgentTuning()
        self.languages = frozenset(languages)
        self._host = host
        self._port = port
        self.calls: list[CallRecord] = []
        self.sessions: list[SimulatedSession] = []
        self.agents: list[TranslationAgent] = []
        self.ws_interpreters: list[WebSocketInterpreter] = []
        self._ws_tokens: dict[str, tuple[SimulatedSession, float]] = {}  # token → (session, exp)
        self._segment_numbers = 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._late_joins: set[asyncio.Task[None]] = set()
        self._state = _State.NEW
        self._closing = asyncio.Event()
        self.base_url = ""

    async def start(self) -> str:
        """Serve on ``host:port`` (0 = a free port); returns ``http://host:port``."""
        if self._state is not _State.NEW:
            raise RuntimeError("a simulator starts once")
        self._state = _State.RUNNING
        app = web.Application()
        app.router.add_post(SESSION_PATH, self._create_session)
        app.router.add_get(WS_SESSION_PATH, self._create_ws_session)
        app.router.add_get(WS_SOCKET_PATH, self._socket)
        # In-flight answers (slow-answer faults) get a short grace on close, not aiohttp's 60 s.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE_S)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self._host, self._port)
        await self._site.start()
        self._port = self._runner.addresses[0][1]
        self.base_url = f"http://{self._host}:{self._port}"
        return self.base_url

    async def aclose(self) -> None:
        """Stop serving, make every agent leave its room; safe to call twice."""
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        self._closing.set()
        for interpreter in self.ws_interpreters:
            interpreter.end("closed", CLOSE_GOING_AWAY)
        if self._runner is not None:
            await self._runner.cleanup()
        await cancel_and_wait(list(self._late_joins))
        await asyncio.gather(*(agent.aclose() for agent in self.agents), return_exceptions=True)

    async def __aenter__(self) -> PinchSimulator:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def script_for(self, request: SessionRequest) -> list[tuple[str, str]]:
        """What a session into ``request``'s target language says."""
        return self.scripts.get(request.target_language, self.script)

    def next_segment_number(self) -> int:
        number = self._segment_numbers
        self._segment_numbers += 1
        return number

    async def wait_for_segments(
        self,
        n: int,
        timeout: float = 10.0,  # noqa: ASYNC109 (the API other tests call)
        *,
        session: SimulatedSession | None = None,
        played: bool = False,
    ) -> list[SegmentRecord]:
        """Wait until ``n`` segments were heard (and, if ``played``, their audio played)."""
        deadline = time.monotonic() + timeout
        while True:
            pool = [session] if session is not None else self.sessions
            done = [
                s for sess in pool for s in sess.segments
                if not played or s.audio_ended_at is not None
            ]
            if len(done) >= n:
                return done
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{len(done)} of {n} segments {'played' if played else 'heard'} "
                    f"within {timeout} s"
                )
            await asyncio.sleep(_POLL_S)

    async def wait_for_session_end(
        self, session: SimulatedSession, timeout: float = 10.0  # noqa: ASYNC109
    ) -> str:
        async with asyncio.timeout(timeout):
            await session.ended.wait()
        return session.ended_reason or ""

    # -- faults on demand ----------------------------------------------------------------

    async def end_session(self, session: SimulatedSession) -> None:
        """The service ends ``session``: its agent leaves the room, or its socket is
        closed with 4503. Returns once the session is over."""
        await self._end(session, "ended", CLOSE_SESSION_ENDED)

    async def expire_session(self, session: SimulatedSession) -> None:
        """A WebSocket session's token expires under it: the socket is closed with 4401."""
        if session.transport != "websocket":
            raise ValueError("only WebSocket sessions are closed for an expired token")
        await self._end(session, "token_expired", CLOSE_TOKEN_EXPIRED)

    async def _end(self, session: SimulatedSession, reason: str, code: int) -> None:
        if session.transport == "websocket":
            for interpreter in self.ws_interpreters:
                if interpreter.session is session:
                    interpreter.end(reason, code)
        else:
            for agent in self.agents:
                if agent.session is session:
                    await agent.aclose()
        async with asyncio.timeout(10):
            await session.ended.wait()

    async def go_away(self) -> None:
        """The service is gone: nothing listens any more and live sockets are cut
        (no close frame). LiveKit rooms, on their own server, are not touched."""
        if self._site is not None:
            await self._site.stop()
            self._site = None
        for interpreter in self.ws_interpreters:
            if interpreter.running:
                interpreter.abort()

    async def come_back(self) -> None:
        """Listen again, on the same port."""
        if self._site is None and self._runner is not None and self._state is _State.RUNNING:
            self._site = web.TCPSite(self._runner, self._host, self._port)
            await self._site.start()

    # -- HTTP --------------------------------------------------------------------------

    async def _create_session(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        return await self._serve_call(request, SESSION_PATH, http_api.parse_json(raw),
                                      self._answer)

    async def _create_ws_session(self, request: web.Request) -> web.StreamResponse:
        return await self._serve_call(request, WS_SESSION_PATH, dict(request.query),
                                      self._answer_ws)

    async def _serve_call(
        self, request: web.Request, path: str, body: object,
        answer: Callable[[CallRecord], Awaitable[web.Response]],
    ) -> web.StreamResponse:
        call = CallRecord(
            number=len(self.calls) + 1,
            status=0,
            authorized=request.headers.get("Authorization") == f"Bearer {self.api_token}",
            content_type=request.content_type,
            body=body,
            received_at=time.time(),
            path=path,
        )
        self.calls.append(call)
        if self.faults.response_delay > 0:
            # Closing cuts the wait short so no handler outlives the simulator.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.faults.response_delay):
                    await self._closing.wait()
        if self._closing.is_set():
            response = web.Response(status=503, text="shutting down")
        else:
            response = await answer(call)
        call.status = response.status
        return response

    def _fault(self, call: CallRecord, *, websocket: bool) -> web.Response | None:
        """The configured HTTP fault for this call, if any (both APIs)."""
        f = self.faults
        plain = f.plain_string_errors
        if call.number <= len(f.scripted_statuses):
            status = f.scripted_statuses[call.number - 1]
            if websocket and status == 503:
                return ws_api.unavailable()
            return http_api.fault_response(status, f.retry_after, plain=plain)
        if f.rate_limit_every and call.number % f.rate_limit_every == 0:
            return http_api.rate_limited(f.retry_after, plain=plain)
        if f.internal_error_every and call.number % f.internal_error_every == 0:
            return http_api.internal_error(plain=plain)
        if f.unavailable_every and call.number % f.unavailable_every == 0:
            return (ws_api.unavailable() if websocket
                    else http_api.fault_response(503, None, plain=plain))
        return None

    async def _answer(self, call: CallRecord) -> web.Response:
        f = self.faults
        plain = f.plain_string_errors
        fault = self._fault(call, websocket=False)
        if fault is not None:
            return fault
        if not call.authorized:
            return http_api.error(401, "invalid_token", "Invalid or expired API token",
                                  plain=plain)
        if call.content_type != "application/json":
            return http_api.error(400, "invalid_request",
                                  "Content-Type must be application/json", plain=plain)
        validated = http_api.validate(call.body, self.languages, plain=plain)
        if isinstance(validated, web.Response):
            return validated
        return await self._open_session(validated)

    async def _open_session(self, request: SessionRequest) -> web.Response:
        suffix = secrets.token_hex(4)
        room_name = f"api-{suffix}"
        identity = f"client-{suffix}"
        ttl = EXPIRED_TTL if self.faults.expired_tokens else TOKEN_TTL
        if self.faults.token_ttl_s is not None:
            ttl = datetime.timedelta(seconds=self.faults.token_ttl_s)
        token = client_token(self._api_key, self._api_secret, room_name, identity, ttl)
        session = SimulatedSession(
            room_name=room_name,
            client_identity=identity,
            request=request,
            token_expires_at=time.time() + ttl.total_seconds(),
        )
        agent = TranslationAgent(
            session=session,
            livekit_url=self.livekit_url,
            token=agent_token(self._api_key, self._api_secret, room_name),
            script=self.script_for(request),
            faults=self.faults,
            tuning=self.tuning,
            next_number=self.next_segment_number,
        )
        join_delay = self.faults.agent_join_delay
        if join_delay is not None and join_delay > 0:
            # The interpreter comes late: answer now, join in the background.
            self.sessions.append(session)
            task = asyncio.create_task(self._join_late(agent, join_delay),
                                       name=f"pinch-sim-late-join:{room_name}")
            self._late_joins.add(task)
            task.add_done_callback(self._late_joins.discard)
            return self._success_body(room_name, token)
        if join_delay is None:  # the interpreter never comes
            self.sessions.append(session)
            return self._success_body(room_name, token)
        try:
            await agent.start()
        except Exception:
            log.exception("translation agent failed to join %s", room_name)
            return http_api.internal_error(plain=self.faults.plain_string_errors)
        if self._state is _State.CLOSED:  # closed while the agent was joining
            await agent.aclose()
            return http_api.internal_error(plain=self.faults.plain_string_errors)
        self.sessions.append(session)
        self.agents.append(agent)
        return self._success_body(room_name, token)

    async def _join_late(self, agent: TranslationAgent, delay: float) -> None:
        await asyncio.sleep(delay)
        self.agents.append(agent)
        try:
            await agent.start()
        except Exception:
            log.exception("translation agent failed to join %s", agent.session.room_name)

    async def _answer_ws(self, call: CallRecord) -> web.Response:
        fault = self._fault(call, websocket=True)
        if fault is not None:
            return fault
        if not call.authorized:
            return http_api.error(401, "invalid_token", "Missing or invalid API key")
        if self.faults.not_entitled:
            return ws_api.not_entitled()
        assert isinstance(call.body, dict)
        validated = ws_api.validate_query(call.body, self.languages)
        if isinstance(validated, web.Response):
            return validated
        session_id = f"ss_{secrets.token_hex(6)}"
        token = secrets.token_urlsafe(24)
        ttl = self.faults.ws_url_ttl_s
        expires = time.time() + (-300.0 if self.faults.expired_tokens else ttl)
        session = SimulatedSession(room_name=session_id, client_identity="ws-client",
                                   request=validated, token_expires_at=expires,
                                   transport="websocket")
        self.sessions.append(session)
        self._ws_tokens[token] = (session, expires)
        ws_url = f"ws://{self._host}:{self._port}{WS_SOCKET_PATH}?token={token}"
        body: dict[str, object] = {"session_id": session_id, "ws_url": ws_url,
                                   "expires_in": ttl}
        match self.faults.bad_success:
            case "not_json":
                return web.Response(status=200, text="<html>OK</html>", content_type="text/html")
            case "missing_token":
                del body["ws_url"]
            case "bad_jwt":
                body["ws_url"] = "not a url"
            case None:
                pass
        return web.json_response(body)

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=4 * 1024 * 1024)
        await ws.prepare(request)
        entry = self._ws_tokens.pop(request.query.get("token", ""), None)
        if entry is None or entry[1] <= time.time() or self._closing.is_set():
            # Unknown, used or expired: the documented close for an expired token.
            await ws.close(code=CLOSE_TOKEN_EXPIRED, message=b"token expired")
            return ws
        session = entry[0]
        interpreter = WebSocketInterpreter(
            session=session, ws=ws, request=request, script=self.script_for(session.request),
            faults=self.faults, tuning=self.tuning, next_number=self.next_segment_number)
        self.ws_interpreters.append(interpreter)
        await interpreter.run()
        return ws

    def _success_body(self, room_name: str, token: str) -> web.Response:
        body = {"url": self.livekit_url, "token": token, "room_name": room_name}
        match self.faults.bad_success:
            case "not_json":
                return web.Response(status=200, text="<html>OK</html>", content_type="text/html")
            case "missing_token":
                del body["token"]
            case "bad_jwt":
                body["token"] = "not-a-jwt"
            case None:
                pass
        return web.json_response(body)
