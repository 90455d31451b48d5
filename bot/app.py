"""The Discord client: builds the :class:`InterpretBot` and runs it until a signal.

``setup_hook`` is where async resources start: the health/metrics endpoint (when
``METRICS_PORT`` is set), the services (:mod:`bot.service.container`: the store with
its migrations, the Pinch client, the interpretation
:class:`~bot.interpretation.manager.SessionManager`, the member-preference view, the
run service), then the extensions, then the command sync — only when the command
definitions changed since the last sync (their hash is kept in the store), or always
with ``command_sync="force"`` (``python -m bot sync``); ``close`` stops them in
reverse order. Cogs get the services whole from :attr:`InterpretBot.services`.

The engine's output reaches cogs as discord.py events,
``on_interpretation_transcript(AttributedTranscript)`` and
``on_interpretation_status(RunStatus)``, so the transcript writer and the commands
listen without the engine knowing them; the metrics and the run service see both
first. The run service adds ``on_interpretation_ended(RunSummary)`` and
``on_interpretation_failure(FailureNotice)``.

Services other parts plug into, created before any extension loads:
``bot.health`` (``add_check`` — the store's ping is registered here), ``bot.metrics``
(``transcript_posted`` — the transcript writer) and ``bot.flush_hooks`` (awaited
during a graceful shutdown, after the runs stopped). ``bot.transcripts`` (the
:class:`~bot.transcripts.TranscriptService`, fed by ``cogs.transcripts``) registers
its flush there, so pending posts reach their threads before the bot leaves
Discord; ``close`` flushes it too, after the runs, for a close without a signal.

``SHARD_COUNT``/``SHARD_IDS`` choose the shards this process serves
(:mod:`bot.sharding`): one named shard (``SHARD_IDS=3``, a StatefulSet pod's
``ordinal``) runs on discord.py's plain client; anything else on its auto-sharded one
(:func:`make_bot`): every shard Discord recommends, every shard of ``SHARD_COUNT``,
or the ``SHARD_IDS`` subset. :func:`serve` runs it and turns
SIGTERM/SIGINT into :class:`~bot.shutdown.GracefulShutdown`. Tests construct the
bot with their own aiohttp connector to point it at the fake Discord.

:func:`serve` is what ``python -m bot`` runs: the preflight checks, then the
Discord connection with start-up retries (:mod:`bot.startup`); losing the gateway
afterwards is logged by :mod:`bot.gateway_log` while discord.py reconnects.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import time
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

import discord
import httpx
import yarl
from discord.ext import commands

from bot import log_privacy
from bot.command_tree import InterpretTree
from bot.gateway_log import GatewayWatch, install_reconnect_attempt_filter
from bot.interpretation.events import AttributedTranscript, RunStatus
from bot.interpretation.manager import SessionManager
from bot.interpretation.run import ChannelInterpretation
from bot.observability.health import Health, ShardState
from bot.observability.metrics import BotMetrics
from bot.observability.pinch_calls import MeteredTransport
from bot.observability.server import ObservabilityServer
from bot.pinch import PinchClient
from bot.service.command_sync import sync_commands
from bot.service.container import Services, open_services
from bot.settings import Settings
from bot.shutdown import FlushHook, GracefulShutdown
from bot.startup import shard_launch
from bot.startup.checks import run_preflight
from bot.startup.discord_run import ConnectPolicy, run_discord
from bot.tasks import cancel_and_wait
from bot.transcripts import TranscriptService
from bot.transcripts.service import TranscriptTotals
from bot.voice.client import ReceivingVoiceClient
from bot.voice.internals_guard import missing_internals

log = logging.getLogger(__name__)

#: Extensions loaded at start-up, in order. Loading is all-or-nothing per extension.
EXTENSIONS: tuple[str, ...] = ("cogs.interpret", "cogs.transcripts")

CommandSync = Literal["auto", "force", "never"]


def default_intents() -> discord.Intents:
    """Only what interpretation needs: guilds and voice states (no message content)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.voice_states = True
    return intents


class ServicesNotReady(RuntimeError):
    """A service was used before ``setup_hook`` or after ``close``."""


class InterpretBot(commands.Bot):
    """The bot of a process that serves one named shard (or, built directly as tests
    and ``python -m bot sync`` do, the whole bot on one unsharded connection).

    discord.py's plain client runs one gateway connection; :class:`ShardedInterpretBot`
    is the same bot for a process that serves every shard, or several.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        extensions: tuple[str, ...] = EXTENSIONS,
        command_sync: CommandSync = "auto",
        run_clock: Callable[[], float] = time.monotonic,
        run_tick_s: float = 1.0,
        pinch_options: dict[str, Any] | None = None,
        **client_options: Any,
    ) -> None:
        client_options.setdefault("intents", default_intents())
        client_options.setdefault("tree_cls", InterpretTree)
        shards = settings.shards
        if shards.count is not None:
            client_options.setdefault("shard_count", shards.count)
            if isinstance(self, commands.AutoShardedBot):
                if shards.ids is not None:
                    client_options.setdefault("shard_ids", list(shards.ids))
            else:
                client_options.setdefault("shard_id", shards.ids[0] if shards.ids else 0)
        super().__init__(command_prefix=commands.when_mentioned, help_command=None,
                         **client_options)
        self.settings = settings
        self._extensions = extensions
        self._command_sync = command_sync
        self._run_clock = run_clock
        self._run_tick_s = run_tick_s
        self._pinch_options = pinch_options
        self._services: Services | None = None
        self.commands_synced = False
        self.flush_hooks: list[FlushHook] = []
        self.health = Health(self.shard_states, self.is_ready)
        self.metrics = BotMetrics(runs=self._runs, voice_of=self._voice_client_of,
                                  guild_of=self._guild_of_channel, shards=self.shard_states,
                                  transcripts=self._transcript_totals)
        self.observability: ObservabilityServer | None = None
        self._disconnected_shards: set[int] = set()
        #: The gateway connection's watch (the plain client's one connection).
        self.gateway_watch = GatewayWatch()
        #: One watch per shard, for a bot running several (:class:`ShardedInterpretBot`).
        self.gateway_watches: dict[int, GatewayWatch] = {}
        self._listen_to_gateway()

    @property
    def services(self) -> Services:
        """The store, Pinch client, engine and run service (ready from ``setup_hook``)."""
        if self._services is None:
            raise ServicesNotReady("the bot's services are not running")
        return self._services

    @property
    def pinch(self) -> PinchClient | None:
        return self._services.pinch if self._services is not None else None

    @property
    def interpretations(self) -> SessionManager | None:
        return self._services.manager if self._services is not None else None

    @property
    def transcripts(self) -> TranscriptService | None:
        return self._services.transcripts if self._services is not None else None

    async def setup_hook(self) -> None:
        install_reconnect_attempt_filter()
        log_privacy.install()  # before the store's first statement and the gateway
        if self.settings.metrics_port is not None:
            self.observability = ObservabilityServer(
                self.health, self.metrics, self.settings.metrics_host, self.settings.metrics_port)
            await self.observability.start()
        self._services = services = await open_services(
            self.settings, connect_receiving_voice,
            on_transcript=self._engine_transcript, on_status=self._engine_status,
            on_ended=lambda summary: self.dispatch("interpretation_ended", summary),
            on_failure=lambda notice: self.dispatch("interpretation_failure", notice),
            voice_unavailable=check_voice_internals(),
            transcript_observer=self.metrics,
            pinch_transport=MeteredTransport(httpx.AsyncHTTPTransport(),
                                             self.metrics.pinch_call),
            ws_http_transport=MeteredTransport(httpx.AsyncHTTPTransport(),
                                               self.metrics.pinch_call),
            pinch_options=self._pinch_options, clock=self._run_clock,
            tick_s=self._run_tick_s)
        self.health.add_check("store", services.store.ping)
        # Pending transcript posts reach their threads before the bot leaves Discord.
        self.add_flush_hook(services.transcripts.aclose)
        for name in self._extensions:
            await self.load_extension(name)
            log.info("loaded extension %s", name)
        if self._command_sync != "never":
            self.commands_synced = await sync_commands(
                self.tree, services.store, force=self._command_sync == "force")

    # -- what the graceful shutdown drives (bot.shutdown.ShutdownTarget) -----------

    async def refuse_new_runs(self, reason: str) -> None:
        self.health.shutting_down = True
        if self._services is not None:
            await self._services.runs.refuse_new_runs(reason)

    def interpreted_channels(self) -> list[discord.abc.Messageable]:
        if self._services is None:
            return []
        channels = (self.get_channel(run.channel_id)
                    for run in self._services.manager.runs.values())
        return [c for c in channels if isinstance(c, discord.abc.Messageable)]

    async def stop_runs(self) -> None:
        if self._services is not None:
            await self._services.manager.aclose()

    async def finish_commands(self) -> None:
        if isinstance(self.tree, InterpretTree):
            await self.tree.wait_idle()

    def add_flush_hook(self, hook: FlushHook) -> None:
        """Await ``hook`` during a graceful shutdown, once every run has stopped."""
        self.flush_hooks.append(hook)

    async def close(self) -> None:
        # Each step runs whatever the one before it did: the services (runs, Pinch
        # client, store), the Discord connection and the endpoint are all closed.
        services, self._services = self._services, None
        try:
            if services is not None:
                await services.aclose()
        finally:
            try:
                await super().close()
            finally:
                if self.observability is not None:
                    await self.observability.aclose()

    # -- the gateway connection -------------------------------------------------------

    def _listen_to_gateway(self) -> None:
        # Listeners rather than on_* methods: a cog or test defining on_disconnect
        # must not silence the gateway log.
        self.add_listener(self._gateway_ready, "on_connect")
        self.add_listener(self._gateway_resumed, "on_resumed")
        self.add_listener(self._gateway_lost, "on_disconnect")

    async def _gateway_ready(self) -> None:
        self._shard_up(self.shard_id or 0, "new session")

    async def _gateway_resumed(self) -> None:
        self._shard_up(self.shard_id or 0, "resumed")

    async def _gateway_lost(self) -> None:
        socket = getattr(self.ws, "socket", None)
        self._shard_lost(self.shard_id or 0, getattr(socket, "close_code", None))

    def _watch(self, shard_id: int) -> GatewayWatch:
        return self.gateway_watch

    def _shard_up(self, shard_id: int, how: str) -> None:
        self._watch(shard_id).connected(how)
        if shard_id in self._disconnected_shards:
            self._disconnected_shards.discard(shard_id)
            self.metrics.gateway_reconnected()

    def _shard_lost(self, shard_id: int, close_code: int | None) -> None:
        if self.is_closed():
            return  # our own shutdown
        self._watch(shard_id).lost(close_code)
        self._disconnected_shards.add(shard_id)

    # -- engine output --------------------------------------------------------------

    def _engine_transcript(self, transcript: AttributedTranscript) -> None:
        self.metrics.on_transcript(transcript)
        self.dispatch("interpretation_transcript", transcript)

    def _engine_status(self, status: RunStatus) -> None:
        self.metrics.on_status(status)
        self.dispatch("interpretation_status", status)

    # -- views for health and metrics -----------------------------------------------

    def shard_states(self) -> list[ShardState]:
        """The shard of this process: connected, heartbeat latency, guilds served."""
        if self.is_closed():
            return []
        ws = self.ws
        socket = getattr(ws, "socket", None)
        connected = socket is not None and not socket.closed
        latency = self.latency
        return [ShardState(self.shard_id or 0, connected,
                           latency if connected and math.isfinite(latency) else None,
                           len(self.guilds))]

    def _transcript_totals(self) -> TranscriptTotals | None:
        return self.transcripts.totals() if self.transcripts is not None else None

    def _runs(self) -> dict[int, ChannelInterpretation]:
        return self.interpretations.runs if self.interpretations is not None else {}

    def _voice_client_of(self, guild_id: int) -> object | None:
        guild = self.get_guild(guild_id)
        return guild.voice_client if guild is not None else None

    def _guild_of_channel(self, channel_id: int) -> int | None:
        channel = self.get_channel(channel_id)
        guild = getattr(channel, "guild", None)
        return guild.id if isinstance(guild, discord.Guild) else None

    # -- guild events ---------------------------------------------------------------

    async def on_voice_state_update(self, member: discord.Member, before: discord.VoiceState,
                                    after: discord.VoiceState) -> None:
        if self.interpretations is not None:
            await self.interpretations.on_voice_state_update(member, before, after)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        if self.interpretations is not None:
            await self.interpretations.on_channel_deleted(channel)


class ShardedInterpretBot(InterpretBot, commands.AutoShardedBot):
    """The bot of a process that serves every shard (as many as Discord recommends, or
    ``SHARD_COUNT``) or several (``SHARD_IDS=0,2``), each on its own gateway connection.
    """

    def _listen_to_gateway(self) -> None:
        # discord.py's connect/resumed/disconnect events do not say which shard.
        self.add_listener(self._shard_connected, "on_shard_connect")
        self.add_listener(self._shard_resumed, "on_shard_resumed")
        self.add_listener(self._shard_disconnected, "on_shard_disconnect")

    async def _shard_connected(self, shard_id: int) -> None:
        self._shard_up(shard_id, "new session")

    async def _shard_resumed(self, shard_id: int) -> None:
        self._shard_up(shard_id, "resumed")

    async def _shard_disconnected(self, shard_id: int) -> None:
        # Dispatched before discord.py replaces the shard's socket: its close code.
        ws = self._get_websocket(shard_id=shard_id) if shard_id in self.shards else None
        socket = getattr(ws, "socket", None)
        self._shard_lost(shard_id, getattr(socket, "close_code", None))

    def _watch(self, shard_id: int) -> GatewayWatch:
        watch = self.gateway_watches.get(shard_id)
        if watch is None:
            watch = self.gateway_watches[shard_id] = GatewayWatch(shard=shard_id)
        return watch

    async def launch_shard(self, gateway: yarl.URL, shard_id: int, *,
                           initial: bool = False) -> None:
        # A shard that cannot connect at start-up ends connect() with the cause (see
        # bot.startup.shard_launch) instead of discord.py retrying it for ever.
        if shard_launch.missing_internals():
            await super().launch_shard(gateway, shard_id, initial=initial)
        else:
            await shard_launch.launch_shard(self, gateway, shard_id, initial=initial)

    def shard_states(self) -> list[ShardState]:
        """Each shard of this process: connected, heartbeat latency, guilds served.

        Once the count is known (``SHARD_COUNT``, or Discord's recommendation fetched
        at connect), a shard not connected yet is listed too, as disconnected.
        """
        if self.is_closed():
            return []
        guilds = collections.Counter(guild.shard_id for guild in self.guilds)
        launched = self.shards
        states = []
        for shard_id in self._shards_served(launched):
            info = launched.get(shard_id)
            if info is None:
                states.append(ShardState(shard_id, False, None, 0))
                continue
            latency = info.latency
            states.append(ShardState(shard_id, not info.is_closed(),
                                     latency if math.isfinite(latency) else None,
                                     guilds.get(shard_id, 0)))
        return states

    def _shards_served(self, launched: dict[int, discord.ShardInfo]) -> list[int]:
        if self.shard_ids is not None:
            return sorted(self.shard_ids)
        if self.shard_count is not None:
            return list(range(self.shard_count))
        return sorted(launched)


def make_bot(settings: Settings, **options: Any) -> InterpretBot:
    """The bot for this process's shard plan: discord.py's plain client when it serves
    exactly one named shard, else the auto-sharded one, which asks Discord for the
    shard count when ``SHARD_COUNT`` is unset and runs every shard (or ``SHARD_IDS``)."""
    ids = settings.shards.ids
    cls = InterpretBot if ids is not None and len(ids) == 1 else ShardedInterpretBot
    return cls(settings, **options)


VOICE_CONNECT_TIMEOUT_S = 15.0


async def connect_receiving_voice(channel: discord.VoiceChannel) -> ReceivingVoiceClient:
    """Join ``channel`` with the voice client that also receives members' audio.

    The timeout is discord.py's own: it cleans up a join that did not finish, where a
    cancellation from outside would leave a half-made voice client behind.
    """
    return await channel.connect(cls=ReceivingVoiceClient, timeout=VOICE_CONNECT_TIMEOUT_S,
                                 self_deaf=False)


def check_voice_internals() -> str | None:
    """``None`` if discord.py has what voice receive relies on, else why runs are refused."""
    missing = missing_internals()
    if not missing:
        return None
    reason = (f"discord.py {discord.__version__} lacks what voice receive relies on "
              f"({', '.join(missing)}); voice runs are refused until the bot is updated")
    log.error("%s", reason)
    return reason


async def sync_now(settings: Settings, **client_options: Any) -> bool:
    """``python -m bot sync``: log in, register the commands with Discord, log out."""
    async with InterpretBot(settings, command_sync="force", **client_options) as bot:
        await bot.login(settings.discord_token.reveal())  # runs setup_hook, which syncs
        return bot.commands_synced


def sync(settings: Settings) -> bool:
    return asyncio.run(sync_now(settings, **client_options(settings)))


def client_options(settings: Settings) -> dict[str, Any]:
    """discord.py ``Client`` options that come from settings (the proxy, if any)."""
    if settings.discord_proxy is None:
        return {}
    return {"proxy": settings.discord_proxy.reveal()}


def run(settings: Settings) -> int:
    """Run the bot until SIGTERM/SIGINT; the process exit status.

    Raises :class:`~bot.startup.errors.StartupError` for a start-up failure the user
    can fix (it never got as far as serving).
    """
    return asyncio.run(serve(settings))


async def serve(settings: Settings, *, policy: ConnectPolicy | None = None,
                extensions: tuple[str, ...] = EXTENSIONS, **options: Any) -> int:
    """Preflight checks, the Discord connection (start-up failures retried or raised as
    ``StartupError``), then serve until a signal and shut down gracefully.

    0 when all went to plan; 1 when the client stopped by itself or the shutdown did
    not finish within ``SHUTDOWN_TIMEOUT``.
    """
    await run_preflight(settings)
    proxy = settings.discord_proxy
    shutdown = GracefulShutdown(None, settings.shutdown_timeout_s)

    def make_client() -> InterpretBot:
        # A fresh client per connection attempt; the shutdown always drives the latest.
        bot = make_bot(settings, extensions=extensions, **client_options(settings), **options)
        shutdown.bot = bot
        return bot

    shutdown.install_signal_handlers()
    log.info("starting (%s)", settings.shards.describe())
    running = asyncio.create_task(
        run_discord(make_client, settings.discord_token, policy=policy,
                    proxy_host=urlsplit(proxy.reveal()).hostname if proxy is not None else None),
        name="discord-client")
    signalled = asyncio.create_task(shutdown.wait_requested(), name="await-signal")
    try:
        await asyncio.wait({running, signalled}, return_when=asyncio.FIRST_COMPLETED)
        if not signalled.done():
            running.result()  # a StartupError, or a bug, goes to the caller
            log.error("the Discord client stopped by itself")
            return 1
        if shutdown.bot is None:  # signalled before any client existed
            return 0
        on_time = await shutdown.run()
        try:
            async with asyncio.timeout(2.0):
                await running
        except Exception as exc:  # ended by close(): only worth a debug line
            log.debug("client ended with %r", exc)
        return 0 if on_time else 1
    finally:
        # A task already done was dealt with above: its failure is the caller's to
        # report (once), not a second line here.
        await cancel_and_wait([task for task in (running, signalled) if not task.done()])
        shutdown.remove_signal_handlers()
