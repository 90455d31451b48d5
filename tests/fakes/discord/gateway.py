"""The fake main gateway: ``wss://gateway.discord.gg/?v=10&encoding=json``.

Speaks JSON text frames (discord.py only decompresses binary frames, so plain text
needs no compression). One :class:`GatewaySession` per IDENTIFY keeps the sequence
counter and the log of dispatched events, so a RESUME after a RECONNECT (op 7) or a
dropped socket replays what the client missed, exactly like Discord does.
Events are filtered by the session's intents and its shard (:mod:`.sharding`).
:meth:`GatewayHub.go_away` drops every connection and refuses new ones until
:meth:`GatewayHub.come_back`, as during a Discord gateway outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord import payloads
from tests.fakes.discord.sharding import (
    INVALID_SHARD_CLOSE,
    UNSHARDED,
    InvalidShard,
    Shard,
    event_guild,
    identify_shard,
    serves,
)
from tests.fakes.discord.tls import RESUME_GATEWAY_HOST
from tests.fakes.discord.world import World

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_MS = 41_250

# Gateway opcodes.
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE, RESUME, RECONNECT = 0, 1, 2, 3, 4, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11

_GUILDS, _MEMBERS, _VOICE_STATES, _GUILD_MESSAGES = 1 << 0, 1 << 1, 1 << 7, 1 << 9
_PRESENCES, _MESSAGE_CONTENT = 1 << 8, 1 << 15
#: The intents an application must enable in the developer portal (else close 4014).
PRIVILEGED_INTENTS = _MEMBERS | _PRESENCES | _MESSAGE_CONTENT

#: Which intent an event needs (events not listed are always sent).
EVENT_INTENTS: dict[str, int] = {
    "GUILD_CREATE": _GUILDS, "GUILD_UPDATE": _GUILDS,
    "CHANNEL_CREATE": _GUILDS, "CHANNEL_UPDATE": _GUILDS, "CHANNEL_DELETE": _GUILDS,
    "THREAD_CREATE": _GUILDS, "THREAD_UPDATE": _GUILDS, "THREAD_DELETE": _GUILDS,
    "GUILD_MEMBER_ADD": _MEMBERS, "GUILD_MEMBER_UPDATE": _MEMBERS,
    "GUILD_MEMBER_REMOVE": _MEMBERS,
    "VOICE_STATE_UPDATE": _VOICE_STATES,
    "MESSAGE_CREATE": _GUILD_MESSAGES, "MESSAGE_UPDATE": _GUILD_MESSAGES,
    "MESSAGE_DELETE": _GUILD_MESSAGES,
}

#: ``on_voice_state(session, data)``: the bot sent op 4.
VoiceStateHandler = Callable[["GatewaySession", dict[str, Any]], Awaitable[None]]


@dataclass
class GatewaySession:
    session_id: str
    intents: int
    seq: int = 0
    #: Every dispatch sent in this session, for RESUME replay: (seq, frame).
    log: list[tuple[int, str]] = field(default_factory=list)
    ws: web.WebSocketResponse | None = None
    resumed: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    resumes: int = 0
    heartbeats: int = 0
    shard: Shard = UNSHARDED
    #: The shard field of its IDENTIFY was present (READY then carries it back).
    sharded: bool = False

    def wants(self, event: str, data: dict[str, Any] | None = None) -> bool:
        need = EVENT_INTENTS.get(event)
        if need is not None and not self.intents & need:
            return False
        return data is None or serves(self.shard, event_guild(event, data))


class GatewayHub:
    def __init__(self, world: World, on_voice_state: VoiceStateHandler) -> None:
        self.world = world
        self._on_voice_state = on_voice_state
        self.sessions: dict[str, GatewaySession] = {}
        self.identifies = 0
        self.received: list[dict[str, Any]] = []
        self._connections: dict[web.WebSocketResponse, asyncio.BaseTransport | None] = {}
        self._refuse_next = 0
        self.refused = 0
        self.ready = asyncio.Event()
        self.away = False
        self.refused = 0
        #: ``time.monotonic()`` of every gateway connection's end (the bot logging out).
        self.disconnects: list[float] = []

    # -- public -----------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH to every session that wants it (logged for RESUME)."""
        for session in list(self.sessions.values()):
            if session.wants(event, data):
                await self._send_dispatch(session, event, data)

    async def reconnect(self, within: float = 10.0, *, wait: bool = True) -> None:
        """Ask every connected client to reconnect (op 7); by default wait until it resumed."""
        asked = []
        for session in self.sessions.values():
            if session.ws is None:
                continue
            session.resumed.clear()
            asked.append(session)
            await self._send(session, {"op": RECONNECT, "d": None})
        if wait:
            await asyncio.wait_for(asyncio.gather(*(s.resumed.wait() for s in asked)), within)

    def drop(self, *, refuse_next: int = 0) -> None:
        """Cut every gateway connection without a close frame, as a lost network does.

        The next ``refuse_next`` connection attempts are answered 503 before the
        websocket upgrade (an outage in front of the gateway); later ones may RESUME.
        """
        self._refuse_next = refuse_next
        for transport in list(self._connections.values()):
            if transport is not None:
                transport.abort()

    async def aclose(self) -> None:
        for ws in list(self._connections):
            with contextlib.suppress(Exception):
                await ws.close(code=1001)

    async def go_away(self) -> None:
        """A gateway outage: drop every connection, refuse new ones (HTTP 503)."""
        self.away = True
        for ws in list(self._connections):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"Discord is unavailable")

    def come_back(self) -> None:
        """End the outage: connections (RESUME or IDENTIFY) are accepted again."""
        self.away = False

    def sessions_on(self, shard: Shard) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if s.shard == shard]

    # -- connection -------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self._refuse_next > 0:
            self._refuse_next -= 1
            self.refused += 1
            return web.Response(status=503, text="upstream connect error")
        if self.away:
            self.refused += 1
            return web.Response(status=503, text="gateway unavailable")
        ws = web.WebSocketResponse(max_msg_size=0, heartbeat=None)
        await ws.prepare(request)
        self._connections[ws] = request.transport
        session: GatewaySession | None = None
        try:
            await ws.send_str(json.dumps({"op": HELLO, "s": None, "t": None,
                                          "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}}))
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                self.received.append(_redacted(frame))
                session = await self._on_frame(ws, session, frame)
        finally:
            self.disconnects.append(time.monotonic())
            self._connections.pop(ws, None)
            if session is not None and session.ws is ws:
                session.ws = None
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, session: GatewaySession | None,
                        frame: dict[str, Any]) -> GatewaySession | None:
        op = frame.get("op")
        data: Any = frame.get("d") or {}
        if op == HEARTBEAT:
            if session is not None:
                session.heartbeats += 1
            await ws.send_str(json.dumps({"op": HEARTBEAT_ACK, "s": None, "t": None, "d": None}))
        elif op == IDENTIFY:
            if session is not None:
                await ws.close(code=4005, message=b"Already authenticated.")
                return session
            if data.get("token") != self.world.bot_token:
                await ws.close(code=4004, message=b"Authentication failed.")
                return None
            if int(data.get("intents", 0)) & PRIVILEGED_INTENTS & ~self.world.privileged_intents:
                await ws.close(code=4014, message=b"Disallowed intent(s).")
                return None
            session = await self._identify(ws, data)
        elif op == RESUME:
            session = await self._resume(ws, data)
        elif session is None:
            await ws.close(code=4003, message=b"Not authenticated.")
        elif op == VOICE_STATE:
            await self._on_voice_state(session, data)
        elif op == REQUEST_MEMBERS:
            await self._members_chunk(session, data)
        return session

    async def _identify(self, ws: web.WebSocketResponse,
                        data: dict[str, Any]) -> GatewaySession | None:
        try:
            shard = identify_shard(data)
        except InvalidShard:
            await ws.close(code=INVALID_SHARD_CLOSE, message=b"Invalid shard.")
            return None
        self.identifies += 1
        session = GatewaySession(session_id=secrets.token_hex(16), intents=int(data["intents"]),
                                 ws=ws, shard=shard, sharded="shard" in data)
        self.sessions[session.session_id] = session
        me = payloads.user(self.world.bot_user)
        me.update(verified=True, mfa_enabled=False, flags=0)
        guilds = [g for g in self.world.guilds.values() if serves(shard, g.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": me,
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": f"wss://{RESUME_GATEWAY_HOST}",
            "application": {"id": str(self.world.application.id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": ["fake"],
        }
        if session.sharded:
            ready["shard"] = list(shard)
        await self._send_dispatch(session, "READY", ready)
        for guild in guilds:
            await self._send_dispatch(session, "GUILD_CREATE", payloads.guild_create(
                guild, include_voice_states=bool(session.intents & _VOICE_STATES)))
        self.ready.set()
        return session

    async def _resume(self, ws: web.WebSocketResponse,
                      data: dict[str, Any]) -> GatewaySession | None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") != self.world.bot_token:
            await ws.send_str(json.dumps({"op": INVALID_SESSION, "s": None, "t": None,
                                          "d": False}))
            return None
        async with session.lock:
            session.ws = ws
            last = int(data.get("seq") or 0)
            for seq, frame in session.log:
                if seq > last:
                    await ws.send_str(frame)
        session.resumes += 1
        await self._send_dispatch(session, "RESUMED", {})
        session.resumed.set()
        return session

    async def _members_chunk(self, session: GatewaySession, data: dict[str, Any]) -> None:
        guild = self.world.guilds.get(int(data["guild_id"]))
        if guild is None:
            return
        await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", {
            "guild_id": str(guild.id),
            "members": [payloads.member(m) for m in guild.members.values()],
            "chunk_index": 0, "chunk_count": 1, "nonce": data.get("nonce"),
        })

    # -- sending ----------------------------------------------------------

    async def _send_dispatch(self, session: GatewaySession, event: str,
                             data: dict[str, Any]) -> None:
        async with session.lock:
            session.seq += 1
            frame = json.dumps({"op": DISPATCH, "s": session.seq, "t": event, "d": data})
            session.log.append((session.seq, frame))
            if session.ws is not None and not session.ws.closed:
                with contextlib.suppress(ConnectionError):
                    await session.ws.send_str(frame)

    async def _send(self, session: GatewaySession, payload: dict[str, Any]) -> None:
        async with session.lock:
            if session.ws is not None and not session.ws.closed:
                payload.setdefault("s", None)
                payload.setdefault("t", None)
                await session.ws.send_str(json.dumps(payload))


def _redacted(frame: dict[str, Any]) -> dict[str, Any]:
    """The frame as recorded: IDENTIFY/RESUME tokens never reach test output."""
    data = frame.get("d")
    if isinstance(data, dict) and "token" in data:
        return {**frame, "d": {**data, "token": "<redacted>"}}
    return frame
