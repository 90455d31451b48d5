"""The fake voice server: voice gateway v8 (``wss://{endpoint}/?v=8``), UDP and DAVE.

One :class:`VoiceCall` per voice channel holds the fake members' voice clients
(in-process, each with its own DAVE client: ``davey``, or ``libdave`` as Discord's
own clients run it, chosen by ``dave_impl``), the bot's websocket connection and
the channel's :class:`~tests.fakes.dave.voice_group.DaveVoiceGroup`. The server routes
the group's messages: to the bot over its websocket (binary ops framed
``seq + opcode + payload``), to members by calling them directly.

UDP: one loopback socket answers IP discovery, records the bot's RTP (decoded by
:class:`~tests.fakes.discord.capture.OutgoingAudioRecorder`) and sends members'
speech to the bot, encrypted as a Discord client would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import struct
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.dave.clients import DaveImpl
from tests.fakes.dave.framing import DaveOp, Outgoing
from tests.fakes.dave.voice_group import DaveVoiceGroup
from tests.fakes.discord.capture import OutgoingAudioRecorder
from tests.fakes.discord.voice_member import Reply, VoiceMember
from tests.fakes.discord.world import World

log = logging.getLogger(__name__)

# Voice gateway opcodes.
IDENTIFY, SELECT_PROTOCOL, READY, HEARTBEAT, SESSION_DESCRIPTION, SPEAKING = 0, 1, 2, 3, 4, 5
HEARTBEAT_ACK, RESUME, HELLO, RESUMED = 6, 7, 8, 9
CLIENTS_CONNECT, CLIENT_CONNECT, CLIENT_DISCONNECT = 11, 12, 13

MODES = ("aead_aes256_gcm_rtpsize", "aead_xchacha20_poly1305_rtpsize")
HEARTBEAT_INTERVAL_MS = 13_750


@dataclass
class PendingVoice:
    """What the main gateway told the bot (VOICE_STATE/SERVER_UPDATE) to present."""

    guild_id: int
    channel_id: int
    user_id: int
    session_id: str
    token: str


@dataclass
class BotConnection:
    """The bot's voice websocket plus its UDP side."""

    ws: web.WebSocketResponse
    user_id: int
    guild_id: int
    channel_id: int
    session_id: str
    ssrc: int
    recorder: OutgoingAudioRecorder
    seq: int = 0
    mode: str | None = None
    secret_key: bytes | None = None
    udp_addr: tuple[str, int] | None = None
    seq_acks: list[int] = field(default_factory=list)
    speaking: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    binary_received: Counter[int] = field(default_factory=Counter)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    described: asyncio.Event = field(default_factory=asyncio.Event)
    #: Epochs this connection's DAVE session holds: those whose commit or welcome it
    #: acknowledged (op 23). A member's frame under any other epoch is one the
    #: protocol does not let the bot decrypt.
    dave_epochs: set[int] = field(default_factory=set)
    #: Transition id -> the epoch its commit/welcome (sent to the bot) starts.
    offered_epochs: dict[int, int] = field(default_factory=dict)

    def holds_epoch(self, epoch: int) -> bool:
        return epoch in self.dave_epochs


@dataclass
class VoiceCall:
    guild_id: int
    channel_id: int
    dave: DaveVoiceGroup | None
    members: dict[int, VoiceMember] = field(default_factory=dict)
    bot: BotConnection | None = None
    #: Every bot connection this call ever had (reconnects make new ones).
    bot_history: list[BotConnection] = field(default_factory=list)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: VoiceServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.server.on_datagram(data, addr)


class VoiceServer:
    def __init__(self, world: World, *, dave_version: int = 1,
                 dave_impl: DaveImpl = "davey") -> None:
        self.world = world
        self.dave_version = dave_version
        #: The DAVE implementation of members who join without choosing one.
        self.dave_impl: DaveImpl = dave_impl
        self.calls: dict[int, VoiceCall] = {}
        self.pending: dict[int, PendingVoice] = {}
        self.udp_drops: Counter[str] = Counter()
        self._transport: asyncio.DatagramTransport | None = None
        self._ssrc = 100 + secrets.randbelow(1000)
        self._connections: set[web.WebSocketResponse] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle --------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(self), local_addr=("127.0.0.1", 0))
        self._transport = transport

    @property
    def udp_port(self) -> int:
        assert self._transport is not None
        return int(self._transport.get_extra_info("sockname")[1])

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for ws in list(self._connections):
            with contextlib.suppress(Exception):
                await ws.close(code=1001)
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def _next_ssrc(self) -> int:
        self._ssrc += 1
        return self._ssrc

    # -- calls and members ------------------------------------------------

    def call(self, channel_id: int) -> VoiceCall:
        call = self.calls.get(channel_id)
        if call is None:
            guild, _ = self.world.find_channel(channel_id)
            dave = DaveVoiceGroup(channel_id, self.dave_version) if self.dave_version else None
            call = VoiceCall(guild.id, channel_id, dave)
            self.calls[channel_id] = call
        return call

    def call_of(self, user_id: int) -> VoiceCall | None:
        for call in self.calls.values():
            if user_id in call.members or (call.bot is not None and call.bot.user_id == user_id):
                return call
        return None

    async def member_joined(self, channel_id: int, user_id: int,
                            dave_impl: DaveImpl | None = None) -> VoiceMember:
        call = self.call(channel_id)
        member = VoiceMember(user_id, channel_id, self._next_ssrc(), self.dave_version,
                             dave_impl or self.dave_impl)
        call.members[user_id] = member
        reply = member.start()
        if call.dave is not None:
            await self._route(call, call.dave.member_joined(user_id))
            if reply is not None:
                await self._handle_replies(call, user_id, [reply])
        if call.bot is not None and call.bot.described.is_set():
            await self._send_json(call.bot, CLIENTS_CONNECT, {"user_ids": [str(user_id)]})
        return member

    async def member_left(self, channel_id: int, user_id: int) -> None:
        call = self.calls.get(channel_id)
        if call is None or call.members.pop(user_id, None) is None:
            return
        if call.bot is not None and call.bot.described.is_set():
            await self._send_json(call.bot, CLIENT_DISCONNECT, {"user_id": str(user_id)})
        if call.dave is not None:
            await self._route(call, call.dave.member_left(user_id))

    def expect_bot(self, pending: PendingVoice) -> None:
        self.pending[pending.guild_id] = pending

    # -- DAVE routing -----------------------------------------------------

    async def _route(self, call: VoiceCall, outs: list[Outgoing]) -> None:
        queue = deque(outs)
        while queue:
            msg = queue.popleft()
            if call.bot is not None and msg.to == call.bot.user_id:
                await self._send_outgoing(call.bot, msg)
                continue
            member = call.members.get(msg.to)
            if member is None:
                continue
            replies = member.receive(msg, self._connected_users(call))
            queue.extend(self._replies_to_outgoing(call, msg.to, replies))

    @staticmethod
    def _connected_users(call: VoiceCall) -> set[int]:
        """Who a client in the call knows is connected (ops 11/13 told it)."""
        users = set(call.members)
        if call.bot is not None:
            users.add(call.bot.user_id)
        return users

    def _replies_to_outgoing(self, call: VoiceCall, user_id: int,
                             replies: list[Reply]) -> list[Outgoing]:
        group = call.dave
        if group is None:
            return []
        out: list[Outgoing] = []
        for r in replies:
            if r.kind == "key_package":
                out += group.on_key_package(user_id, r.data)
            elif r.kind == "commit_welcome":
                out += group.on_commit_welcome_payload(user_id, r.data)
            elif r.kind == "transition_ready":
                out += group.on_transition_ready(user_id, r.data)
            elif r.kind == "invalid_commit":
                out += group.on_invalid_commit_welcome(user_id, r.data)
        return out

    async def _handle_replies(self, call: VoiceCall, user_id: int, replies: list[Reply]) -> None:
        await self._route(call, self._replies_to_outgoing(call, user_id, replies))

    # -- sending to the bot -----------------------------------------------

    async def _send_outgoing(self, conn: BotConnection, msg: Outgoing) -> None:
        if msg.epoch is not None and isinstance(msg.payload, bytes):
            conn.offered_epochs[int.from_bytes(msg.payload[:2], "big")] = msg.epoch
        async with conn.lock:
            conn.seq += 1
            frame = msg.to_wire(conn.seq)
            if conn.ws.closed:
                return
            with contextlib.suppress(ConnectionError):
                if isinstance(frame, bytes):
                    await conn.ws.send_bytes(frame)
                else:
                    await conn.ws.send_str(frame)

    async def _send_json(self, conn: BotConnection, op: int, data: Any) -> None:
        await self._send_outgoing(conn, Outgoing(conn.user_id, op, data))

    # -- the voice websocket ----------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, heartbeat=None)
        await ws.prepare(request)
        self._connections.add(ws)
        conn: BotConnection | None = None
        try:
            await ws.send_str(json.dumps({"op": HELLO, "d": {
                "v": 8, "heartbeat_interval": HEARTBEAT_INTERVAL_MS}}))
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        frame = json.loads(msg.data)
                    except ValueError:
                        await ws.close(code=4002, message=b"Failed to decode payload")
                        break
                    conn = await self._on_json(ws, conn, frame)
                elif msg.type == WSMsgType.BINARY and conn is not None:
                    await self._on_binary(conn, bytes(msg.data))
        finally:
            self._connections.discard(ws)
            # After a voice RESUME the connection lives on under a new socket.
            if conn is not None and conn.ws is ws:
                await self._bot_gone(conn)
        return ws

    async def _on_json(self, ws: web.WebSocketResponse, conn: BotConnection | None,
                       frame: dict[str, Any]) -> BotConnection | None:
        op, data = frame.get("op"), frame.get("d") or {}
        if conn is not None:
            # Recorded frames keep no tokens (IDENTIFY/RESUME are not recorded).
            conn.received.append(frame)
        if op == IDENTIFY:
            return await self._identify(ws, data)
        if op == RESUME:
            return await self._resume(ws, data)
        if conn is None:
            await ws.close(code=4003, message=b"Not authenticated")
            return None
        if op == HEARTBEAT:
            conn.seq_acks.append(int(data.get("seq_ack", -1)))
            await ws.send_str(json.dumps({"op": HEARTBEAT_ACK, "d": {"t": data.get("t")}}))
        elif op == SELECT_PROTOCOL:
            await self._select_protocol(conn, data)
        elif op == SPEAKING:
            conn.speaking.append(data)
        elif op in (DaveOp.TRANSITION_READY, DaveOp.MLS_INVALID_COMMIT_WELCOME):
            if op == DaveOp.TRANSITION_READY:
                self._bot_ready_for(conn, data)
            call = self.calls.get(conn.channel_id)
            if call is not None and call.dave is not None:
                await self._route(call, call.dave.on_client_json(conn.user_id, op, data))
        return conn

    @staticmethod
    def _bot_ready_for(conn: BotConnection, data: Any) -> None:
        try:
            epoch = conn.offered_epochs.pop(int(data["transition_id"]))
        except (KeyError, TypeError, ValueError):
            return
        conn.dave_epochs.add(epoch)

    async def _on_binary(self, conn: BotConnection, frame: bytes) -> None:
        if frame:
            conn.binary_received[frame[0]] += 1
        call = self.calls.get(conn.channel_id)
        if call is not None and call.dave is not None:
            await self._route(call, call.dave.on_client_binary(conn.user_id, frame))

    def _authorised(self, data: dict[str, Any]) -> PendingVoice | None:
        try:
            pending = self.pending.get(int(data["server_id"]))
        except (KeyError, TypeError, ValueError):
            return None
        if pending is None or data.get("token") != pending.token \
                or data.get("session_id") != pending.session_id:
            return None
        return pending

    async def _identify(self, ws: web.WebSocketResponse,
                        data: dict[str, Any]) -> BotConnection | None:
        pending = self._authorised(data)
        if pending is None or str(data.get("user_id")) != str(pending.user_id):
            await ws.close(code=4004, message=b"Authentication failed")
            return None
        call = self.call(pending.channel_id)
        if call.bot is not None and call.bot.user_id == pending.user_id:
            await self._bot_gone(call.bot)
        conn = BotConnection(
            ws=ws, user_id=pending.user_id, guild_id=pending.guild_id,
            channel_id=pending.channel_id, session_id=pending.session_id,
            ssrc=self._next_ssrc(),
            recorder=OutgoingAudioRecorder(pending.user_id, lambda: self._listeners(call)),
        )
        call.bot = conn
        call.bot_history.append(conn)
        await self._send_json(conn, READY, {
            "ssrc": conn.ssrc, "ip": "127.0.0.1", "port": self.udp_port,
            "modes": list(MODES), "heartbeat_interval": 1,
        })
        return conn

    async def _resume(self, ws: web.WebSocketResponse,
                      data: dict[str, Any]) -> BotConnection | None:
        pending = self._authorised(data)
        call = None if pending is None else self.calls.get(pending.channel_id)
        if call is None or call.bot is None:
            await ws.close(code=4006, message=b"Session no longer valid")
            return None
        conn = call.bot
        conn.ws = ws
        await self._send_json(conn, RESUMED, None)
        return conn

    async def _select_protocol(self, conn: BotConnection, data: dict[str, Any]) -> None:
        mode = (data.get("data") or {}).get("mode")
        if mode not in MODES:
            await conn.ws.close(code=4016, message=b"Unknown encryption mode")
            return
        conn.mode = mode
        conn.secret_key = secrets.token_bytes(32)
        conn.recorder.set_transport(mode, conn.secret_key)
        call = self.calls[conn.channel_id]
        await self._send_json(conn, SESSION_DESCRIPTION, {
            "audio_codec": "opus", "video_codec": "H264", "media_session_id": secrets.token_hex(8),
            "mode": mode, "secret_key": list(conn.secret_key),
            "dave_protocol_version": self.dave_version,
        })
        conn.described.set()
        if call.members:
            await self._send_json(conn, CLIENTS_CONNECT,
                                  {"user_ids": [str(uid) for uid in call.members]})
        if call.dave is not None:
            await self._route(call, call.dave.member_joined(conn.user_id))

    async def _bot_gone(self, conn: BotConnection) -> None:
        call = self.calls.get(conn.channel_id)
        if call is None or call.bot is not conn:
            return
        call.bot = None
        if call.dave is not None:
            await self._route(call, call.dave.member_left(conn.user_id))

    @staticmethod
    def _listeners(call: VoiceCall) -> list[VoiceMember]:
        """Members whose clients decrypt what the bot says: those in the group."""
        return [m for m in call.members.values() if m.ready]

    # -- UDP --------------------------------------------------------------

    def _bot_by_ssrc(self, ssrc: int) -> BotConnection | None:
        for call in self.calls.values():
            if call.bot is not None and call.bot.ssrc == ssrc:
                return call.bot
        return None

    def on_datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) == 74 and data[:4] == b"\x00\x01\x00\x46":
            ssrc = struct.unpack_from(">I", data, 4)[0]
            conn = self._bot_by_ssrc(ssrc)
            if conn is None:
                self.udp_drops["discovery_unknown_ssrc"] += 1
                return
            conn.udp_addr = addr
            reply = bytearray(74)
            struct.pack_into(">HHI", reply, 0, 2, 70, ssrc)
            ip = addr[0].encode()
            reply[8:8 + len(ip)] = ip
            struct.pack_into(">H", reply, 72, addr[1])
            assert self._transport is not None
            self._transport.sendto(bytes(reply), addr)
            return
        if len(data) < 12:
            self.udp_drops["short"] += 1
            return
        conn = self._bot_by_ssrc(struct.unpack_from(">I", data, 8)[0])
        if conn is None:
            self.udp_drops["unknown_ssrc"] += 1
            return
        conn.recorder.feed(data)

    def send_to_bot(self, conn: BotConnection, datagram: bytes) -> None:
        if self._transport is None or conn.udp_addr is None:
            self.udp_drops["no_bot_address"] += 1
            return
        self._transport.sendto(datagram, conn.udp_addr)

    async def announce_speaking(self, conn: BotConnection, member: VoiceMember,
                                speaking: int) -> None:
        await self._send_json(conn, SPEAKING, {"user_id": str(member.user_id),
                                               "ssrc": member.ssrc, "speaking": speaking})
