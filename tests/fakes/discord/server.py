"""``FakeDiscord``: the one object a test starts, scripts and inspects.

It owns the aiohttp server (one TLS port on loopback for REST, the gateway and the
voice gateway, told apart by path and Host), the UDP voice socket and the world
state, and offers the scripting verbs of an end-to-end test: invoke a slash
command, move members in and out of voice, make them speak, ask the bot's gateway
to reconnect, and read back messages, threads and the bot's decoded audio.

Lifecycle: ``start()`` then ``aclose()`` (or ``async with``); closing twice is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import numpy as np
import numpy.typing as npt
from aiohttp import web

from tests.fakes.dave.clients import DaveImpl
from tests.fakes.discord import payloads
from tests.fakes.discord.capture import CapturedAudio
from tests.fakes.discord.gateway import GatewayHub, GatewaySession
from tests.fakes.discord.interactions import build_interaction
from tests.fakes.discord.member_stream import MemberStream
from tests.fakes.discord.model import (
    Channel,
    ChannelType,
    Guild,
    InteractionRecord,
    Member,
    Message,
    Overwrite,
    Permission,
    Role,
    VoiceState,
    compute_permissions,
)
from tests.fakes.discord.rest import RestApi
from tests.fakes.discord.rest_base import LOADING
from tests.fakes.discord.speech import (
    DTX_SILENCE_FRAMES,
    SpeechReport,
    load_pcm,
    opus_frames,
    pace,
)
from tests.fakes.discord.tls import VOICE_HOST, FakeTls, make_connector, make_tls
from tests.fakes.discord.voice import BotConnection, PendingVoice, VoiceCall, VoiceServer
from tests.fakes.discord.world import World

T = TypeVar("T")
DEFAULT_WAIT = 5.0


class FakeDiscord:
    def __init__(self, world: World | None = None, *, dave_version: int = 1,
                 dave_impl: DaveImpl = "davey") -> None:
        """``dave_impl``: the DAVE implementation members' clients run ("davey", or
        "libdave" as Discord's own clients); ``move_member`` may choose per member."""
        self.world = world or World.default()
        self.gateway = GatewayHub(self.world, self._on_bot_voice_state)
        self.rest = RestApi(self.world, self.gateway.dispatch)
        self.voice = VoiceServer(self.world, dave_version=dave_version, dave_impl=dave_impl)
        self.tls: FakeTls | None = None
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._closed = False
        self._speech_tasks: set[asyncio.Task[SpeechReport]] = set()
        self.bot_voice_requests: list[tuple[float, int, int | None]] = []
        """Every op 4 the bot sent: (monotonic time, guild id, channel id or None)."""

    # -- lifecycle --------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None or self._closed:
            raise RuntimeError("FakeDiscord is single-use: start it once")
        self.tls = make_tls()
        app = web.Application()
        app.router.add_get("/", self._websocket)
        self.rest.install(app)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.tls.server_context)
        await site.start()
        server = site._server
        if not isinstance(server, asyncio.Server):
            raise RuntimeError("the fake's TLS site did not start")
        self._port = int(server.sockets[0].getsockname()[1])
        await self.voice.start()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in list(self._speech_tasks):
            task.cancel()
        for task in list(self._speech_tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.voice.aclose()
        await self.gateway.aclose()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def port(self) -> int:
        return self._port

    @property
    def bot_token(self) -> str:
        return self.world.bot_token

    def connector(self) -> aiohttp.TCPConnector:
        """A connector trusting the fake's CA and resolving every host to it."""
        if self.tls is None:
            raise RuntimeError("start() the fake first")
        return make_connector(self.tls, self._port)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments that point a ``discord.Client`` at this fake."""
        return {"connector": self.connector(), "guild_ready_timeout": 0.1}

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if request.url.host == VOICE_HOST:
            return await self.voice.handle(request)
        return await self.gateway.handle(request)

    # -- world shortcuts --------------------------------------------------

    @property
    def guild(self) -> Guild:
        return self.world.guild

    @property
    def text_channel(self) -> Channel:
        return next(c for c in self.guild.channels.values() if c.type == ChannelType.TEXT)

    @property
    def voice_channel(self) -> Channel:
        return next(c for c in self.guild.channels.values() if c.type == ChannelType.VOICE)

    def member(self, name: str) -> Member:
        return self.world.member_named(name)

    @property
    def admin(self) -> Member:
        return self.guild.members[self.guild.owner_id]

    @property
    def humans(self) -> list[Member]:
        return [m for m in self.guild.members.values()
                if not m.user.bot and m.id != self.guild.owner_id]

    @property
    def bot_user_id(self) -> int:
        return self.world.bot_user.id

    async def add_channel(self, name: str, kind: ChannelType = ChannelType.VOICE) -> Channel:
        """A new channel in the default guild, announced with CHANNEL_CREATE."""
        guild = self.guild
        channel = Channel(self.world.new_id(), guild.id, kind, name, position=len(guild.channels))
        guild.channels[channel.id] = channel
        await self.gateway.dispatch("CHANNEL_CREATE", payloads.channel(channel))
        return channel

    async def delete_channel(self, channel: Channel) -> None:
        """Delete a channel as an admin would: CHANNEL_DELETE, then everyone in it
        (the bot included) is disconnected from voice."""
        guild = self.guild
        guild.channels.pop(channel.id, None)
        await self.gateway.dispatch("CHANNEL_DELETE", payloads.channel(channel))
        for user_id, state in list(guild.voice_states.items()):
            if state.channel_id == channel.id:
                await self.move_member(guild.members[user_id], None)

    async def post_message(self, member: Member | str, channel: Channel, content: str) -> Message:
        """A fake member writes in a channel or thread (MESSAGE_CREATE to the bot)."""
        m = self.member(member) if isinstance(member, str) else member
        msg = Message(self.world.new_id(), channel.id, m.user, content)
        self.world.messages[msg.id] = msg
        channel.last_message_id = msg.id
        await self.gateway.dispatch("MESSAGE_CREATE", payloads.message(msg, self.guild))
        return msg

    def set_bot_permission(self, channel: Channel, *, allow: int = 0, deny: int = 0) -> None:
        """Add a member overwrite for the bot on ``channel`` (e.g. deny SEND_MESSAGES)."""
        self.set_permission(channel, self.guild.members[self.bot_user_id], allow=allow,
                            deny=deny)

    def set_permission(self, channel: Channel, who: Member | Role | str, *, allow: int = 0,
                       deny: int = 0) -> None:
        """Set the overwrite of a member (or a member's name) or a role on ``channel``
        (e.g. deny Bob VIEW_CHANNEL); ``announce_channel`` lets the bot's cache see it."""
        target = self.member(who) if isinstance(who, str) else who
        kind = 0 if isinstance(target, Role) else 1
        channel.overwrites = [o for o in channel.overwrites
                              if not (o.type == kind and o.id == target.id)]
        channel.overwrites.append(Overwrite(target.id, kind, allow, deny))

    async def announce_channel(self, channel: Channel) -> None:
        """CHANNEL_UPDATE for ``channel`` (after changing its overwrites, say), as Discord
        sends when an admin edits a channel: the bot's cache sees the change."""
        await self.gateway.dispatch("CHANNEL_UPDATE", payloads.channel(channel))

    async def add_role(self, name: str, permissions: int = 0) -> Role:
        """A new role in the default guild, announced with GUILD_ROLE_CREATE."""
        guild = self.guild
        role = Role(self.world.new_id(), name, int(permissions), position=1)
        guild.roles[role.id] = role
        await self.gateway.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(guild.id),
                                                          "role": payloads.role(role)})
        return role

    async def add_guild(self, name: str) -> Guild:
        """Another server with the bot in it, while the bot runs (GUILD_CREATE): see
        :func:`~tests.fakes.discord.sharding.add_guild_on_shard` for what it holds.
        Invoke commands there with ``invoke(..., channel=<one of its channels>)``."""
        from tests.fakes.discord.sharding import add_guild_on_shard
        guild = add_guild_on_shard(self.world, name, (0, 1))
        await self.gateway.dispatch("GUILD_CREATE",
                                    payloads.guild_create(guild, include_voice_states=True))
        return guild

    def give_role(self, member: Member | str, role: Role) -> None:
        """Give ``member`` the role; interactions they start from now on carry it."""
        m = self.member(member) if isinstance(member, str) else member
        if role.id not in m.roles:
            m.roles.append(role.id)

    def bot_permissions(self, channel: Channel) -> Permission:
        guild = self.world.guilds.get(channel.guild_id, self.guild)
        return Permission(compute_permissions(guild, guild.members[self.bot_user_id], channel))

    # -- waiting ----------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], T | None], within: float = DEFAULT_WAIT,
                       what: str = "condition") -> T:
        """Poll ``predicate`` until it returns something truthy (then return it)."""
        deadline = time.monotonic() + within
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"fake discord: timed out waiting for {what}")
            await asyncio.sleep(0.01)

    # -- interactions -----------------------------------------------------

    async def _send_interaction(self, name: str, user: Member | str | None,
                                channel: Channel | None, options: dict[str, Any],
                                focused: str | None) -> InteractionRecord:
        # The channel decides the guild (several guilds: see sharding.add_guild_on_shard).
        guild = self.world.find_channel(channel.id)[0] if channel is not None else self.guild
        member = (guild.members[guild.owner_id] if user is None
                  else self.world.member_named(user, guild) if isinstance(user, str) else user)
        channel = channel or self.text_channel
        iid = self.world.new_id()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        data = build_interaction(
            interaction_id=iid, token=token, application_id=self.world.application.id,
            commands=self.world.all_commands(guild.id), name=name, guild=guild,
            channel=channel, member=member, bot_member=guild.members[self.bot_user_id],
            options=options, focused=focused,
        )
        rec = InteractionRecord(id=iid, token=token, type=data["type"], name=name,
                                user_id=member.id, channel_id=channel.id, options=options)
        self.world.interactions[iid] = rec
        await self.gateway.dispatch("INTERACTION_CREATE", data)
        return rec

    async def invoke(self, name: str, /, *, user: Member | str | None = None,
                     channel: Channel | None = None, within: float = DEFAULT_WAIT,
                     options: dict[str, Any] | None = None,
                     **more_options: Any) -> InteractionRecord:
        """Run ``/name`` (``"group sub"`` for subcommands) as ``user`` (default: the admin).

        Command options come as keywords (or in ``options`` when one is called
        ``user``, ``channel`` or ``timeout``). Returns once the bot answered the
        interaction (any callback type), or once its answer was refused for coming
        after Discord's deadline (``rec.refused_late``).
        """
        rec = await self._send_interaction(name, user, channel,
                                           {**(options or {}), **more_options}, None)
        await self.wait_for(lambda: rec.responses or rec.refused_late, within,
                            f"a response to /{name}")
        return rec

    async def answered(self, record: InteractionRecord,
                       within: float = DEFAULT_WAIT) -> InteractionRecord:
        """``record`` once its answer is in: a deferred "thinking..." placeholder replaced
        (at once when the bot answered without deferring)."""
        if record.response_type == 5:
            await self.wait_for(
                lambda: record.original is not None and not record.original.flags & LOADING,
                within, f"the answer to /{record.name}")
        return record

    async def autocomplete(self, name: str, focused: str, /, *,
                           user: Member | str | None = None, channel: Channel | None = None,
                           within: float = DEFAULT_WAIT, options: dict[str, Any] | None = None,
                           **more_options: Any) -> list[dict[str, Any]]:
        """Ask for autocomplete of option ``focused``; returns the choices offered."""
        rec = await self._send_interaction(name, user, channel,
                                           {**(options or {}), **more_options}, focused)
        await self.wait_for(lambda: rec.responses, within, f"autocomplete for /{name}")
        return rec.choices

    # -- gateway scripting ------------------------------------------------

    async def reconnect_gateway(self, within: float = 10.0, *, wait: bool = True) -> None:
        """Send op 7 RECONNECT and (by default) wait until the bot resumed its session."""
        await self.gateway.reconnect(within, wait=wait)

    def drop_gateway(self, *, refuse_next: int = 0) -> None:
        """Cut the bot's gateway connection abruptly; refuse the next attempts with 503."""
        self.gateway.drop(refuse_next=refuse_next)

    async def _on_bot_voice_state(self, session: GatewaySession, data: dict[str, Any]) -> None:
        guild = self.world.guilds.get(int(data["guild_id"]))
        if guild is None:
            return
        bot_id = self.bot_user_id
        channel_id = None if data.get("channel_id") is None else int(data["channel_id"])
        self.bot_voice_requests.append((time.monotonic(), guild.id, channel_id))
        previous = guild.voice_states.get(bot_id)
        if channel_id is not None:
            channel = guild.channels.get(channel_id)
            if channel is None or channel.type != ChannelType.VOICE:
                return
            if not self.bot_permissions(channel) & Permission.CONNECT:
                return  # Discord ignores the request; discord.py times out
        state = VoiceState(bot_id, channel_id, session.session_id,
                           self_mute=bool(data.get("self_mute")),
                           self_deaf=bool(data.get("self_deaf")))
        guild.voice_states[bot_id] = state
        await self.gateway.dispatch("VOICE_STATE_UPDATE", payloads.voice_state(state, guild))
        if channel_id is None:
            self.voice.pending.pop(guild.id, None)
            return
        if previous is not None and previous.channel_id == channel_id:
            return
        token = secrets.token_hex(8)
        self.voice.expect_bot(PendingVoice(guild.id, channel_id, bot_id,
                                           session.session_id, token))
        await self.gateway.dispatch("VOICE_SERVER_UPDATE", {
            "token": token, "guild_id": str(guild.id), "endpoint": VOICE_HOST})

    async def move_member(self, member: Member | str, channel: Channel | None, *,
                          dave_impl: DaveImpl | None = None) -> None:
        """A fake member joins, moves to, or (``None``) leaves a voice channel; its voice
        client runs ``dave_impl`` (default: the fake's)."""
        guild = (self.world.find_channel(channel.id)[0] if channel is not None
                 else self.guild)
        m = self.world.member_named(member, guild) if isinstance(member, str) else member
        if channel is None:  # leaving: the guild whose voice channel they are in
            guild = next((g for g in self.world.guilds.values() if m.id in g.voice_states),
                         guild)
        old = guild.voice_states.get(m.id)
        old_channel = None if old is None else old.channel_id
        new_channel = None if channel is None else channel.id
        if old_channel == new_channel:
            return
        state = VoiceState(m.id, new_channel, secrets.token_hex(16))
        guild.voice_states[m.id] = state
        if old_channel is not None:
            await self.voice.member_left(old_channel, m.id)
        await self.gateway.dispatch("VOICE_STATE_UPDATE", payloads.voice_state(state, guild))
        if new_channel is not None:
            await self.voice.member_joined(new_channel, m.id, dave_impl)
        if channel is None:
            del guild.voice_states[m.id]

    # -- voice inspection and speech --------------------------------------

    def voice_call(self, channel: Channel | None = None) -> VoiceCall:
        return self.voice.call((channel or self.voice_channel).id)

    def bot_voice(self, channel: Channel | None = None) -> BotConnection | None:
        return self.voice_call(channel).bot

    async def wait_bot_voice_ready(self, channel: Channel | None = None,
                                   within: float = DEFAULT_WAIT) -> BotConnection:
        """Until the bot has a session description and a UDP address in the call."""
        def ready() -> BotConnection | None:
            conn = self.bot_voice(channel)
            return conn if conn and conn.described.is_set() and conn.udp_addr else None
        return await self.wait_for(ready, within, "the bot's voice connection")

    async def wait_dave_ready(self, channel: Channel | None = None,
                              within: float = DEFAULT_WAIT) -> None:
        """Until every fake member in the call holds a ready DAVE session with the bot."""
        call = self.voice_call(channel)

        def ready() -> bool:
            group = call.dave
            return (call.bot is not None and group is not None
                    and self.bot_user_id in group.members
                    and not group.pending_transitions
                    and all(m.ready for m in call.members.values()))
        await self.wait_for(ready, within, "the DAVE group to settle")

    async def migrate_bot_voice(self, guild: Guild | None = None) -> None:
        """Move the bot's call to a "new voice server": a fresh VOICE_SERVER_UPDATE.

        discord.py closes its voice websocket (4014) and connects again on the same
        UDP socket: new IDENTIFY, new SSRC, new key (op 4) and a new DAVE leaf.
        """
        g = guild or self.guild
        pending = self.voice.pending.get(g.id)
        if pending is None:
            raise RuntimeError("the bot is not in a voice channel of that guild")
        token = secrets.token_hex(8)
        self.voice.expect_bot(PendingVoice(g.id, pending.channel_id, pending.user_id,
                                           pending.session_id, token))
        await self.gateway.dispatch("VOICE_SERVER_UPDATE", {
            "token": token, "guild_id": str(g.id), "endpoint": VOICE_HOST})

    def captured_audio(self, channel: Channel | None = None) -> CapturedAudio:
        """The bot's decoded outgoing audio in the call (all its connections, merged)."""
        merged = CapturedAudio()
        for conn in self.voice_call(channel).bot_history:
            merged.merge(conn.recorder.audio)
        return merged

    async def speak(self, member: Member | str,
                    audio: str | Path | npt.NDArray[np.int16]) -> SpeechReport:
        """Make a fake member in the bot's call speak a WAV file or int16 samples."""
        return await (await self.start_speaking(member, audio))

    async def start_speaking(
        self, member: Member | str, audio: str | Path | npt.NDArray[np.int16]
    ) -> asyncio.Task[SpeechReport]:
        """Like :meth:`speak` but returns at once with the running task (owned by the fake).

        The bot need not be connected yet: the member's client sends from the start,
        and the bot hears from whenever it is there (see ``member_stream``).
        """
        m = self.member(member) if isinstance(member, str) else member
        call = self.voice.call_of(m.id)
        if call is None or m.id not in call.members:
            raise RuntimeError(f"{m.user.username} is not in a voice channel")
        voice_member = call.members[m.id]
        pcm = load_pcm(audio)
        # Inline, not in a worker thread: encoding is ~0.2 ms per frame and an
        # executor thread would outlive the fake.
        frames = opus_frames(pcm)

        async def run() -> SpeechReport:
            report = SpeechReport(len(frames), 0, DTX_SILENCE_FRAMES, voice_member.ssrc)
            stream = MemberStream(self.voice, call, voice_member, report)
            conn = call.bot
            if conn is not None and conn.described.is_set():
                await self.voice.announce_speaking(conn, voice_member, 1)
            await pace(stream.datagrams(frames), stream.send)
            return report

        task = asyncio.create_task(run(), name=f"fake-discord-speak-{m.user.username}")
        self._speech_tasks.add(task)
        task.add_done_callback(self._speech_tasks.discard)
        return task

    # -- reading back -----------------------------------------------------

    def messages_in(self, channel: Channel | int) -> list[Message]:
        """Live (not deleted) messages in a channel or thread, oldest first."""
        cid = channel if isinstance(channel, int) else channel.id
        return [m for m in self.world.messages.values() if m.channel_id == cid and not m.deleted]

    def threads_in(self, channel: Channel | None = None) -> list[Channel]:
        parent = (channel or self.text_channel).id
        return [c for c in self.guild.channels.values() if c.is_thread and c.parent_id == parent]

    def rest_calls(self, method: str | None = None, path_contains: str = "") -> list[Any]:
        return [c for c in self.world.rest_calls
                if (method is None or c.method == method) and path_contains in c.path]

