"""The Discord client: builds the :class:`InterpretBot` and runs it until a signal.

``setup_hook`` is where async resources start: the health/metrics endpoint (when
``METRICS_PORT`` is set), the Pinch client, the interpretation
:class:`~bot.interpretation.manager.SessionManager`, then the extensions; ``close``
stops them in reverse order. The engine's output reaches cogs as discord.py
events, ``on_interpretation_transcript(AttributedTranscript)`` and
``on_interpretation_status(RunStatus)``, so the transcript writer and the commands
listen without the engine knowing them; the metrics see both first.

Services other parts plug into, created before any extension loads:
``bot.health`` (``add_check`` — the store's ping), ``bot.metrics``
(``transcript_posted`` — the transcript writer) and ``bot.flush_hooks`` (awaited
during a graceful shutdown, after the runs stopped — the transcript writer drains
its pending posts there).

The bot is discord.py's auto-sharded bot: ``SHARD_COUNT``/``SHARD_IDS`` choose the
shards this process serves (:mod:`bot.sharding`). :func:`serve` runs it and turns
SIGTERM/SIGINT into :class:`~bot.shutdown.GracefulShutdown`. Tests construct the
bot with their own aiohttp connector to point it at the fake Discord.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
from typing import Any

import discord
import httpx
from discord.ext import commands

from bot.interpretation.manager import SessionManager
from bot.interpretation.run import AttributedTranscript, ChannelInterpretation, RunStatus
from bot.observability.health import Health, ShardState
from bot.observability.metrics import BotMetrics
from bot.observability.pinch_calls import MeteredTransport
from bot.observability.server import ObservabilityServer
from bot.pinch import PinchClient
from bot.settings import Settings
from bot.shutdown import FlushHook, GracefulShutdown
from bot.voice.client import ReceivingVoiceClient

log = logging.getLogger(__name__)

#: Extensions loaded at start-up, in order. Loading is all-or-nothing per extension.
EXTENSIONS: tuple[str, ...] = ()


def default_intents() -> discord.Intents:
    """Only what interpretation needs: guilds and voice states (no message content)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.voice_states = True
    return intents


class InterpretBot(commands.AutoShardedBot):
    def __init__(
        self,
        settings: Settings,
        *,
        extensions: tuple[str, ...] = EXTENSIONS,
        **client_options: Any,
    ) -> None:
        client_options.setdefault("intents", default_intents())
        if settings.shards.count is not None:
            client_options.setdefault("shard_count", settings.shards.count)
        if settings.shards.ids is not None:
            client_options.setdefault("shard_ids", list(settings.shards.ids))
        super().__init__(command_prefix=commands.when_mentioned, help_command=None,
                         **client_options)
        self.settings = settings
        self._extensions = extensions
        self.pinch: PinchClient | None = None
        self.interpretations: SessionManager | None = None
        self.flush_hooks: list[FlushHook] = []
        self.health = Health(self.shard_states, self.is_ready)
        self.metrics = BotMetrics(runs=self._runs, voice_of=self._voice_client_of,
                                  guild_of=self._guild_of_channel, shards=self.shard_states)
        self.observability: ObservabilityServer | None = None
        self._disconnected_shards: set[int] = set()

    async def setup_hook(self) -> None:
        if self.settings.metrics_port is not None:
            self.observability = ObservabilityServer(
                self.health, self.metrics, self.settings.metrics_host, self.settings.metrics_port)
            await self.observability.start()
        self.pinch = PinchClient(
            self.settings.pinch_base_url, self.settings.pinch_api_token,
            transport=MeteredTransport(httpx.AsyncHTTPTransport(), self.metrics.pinch_call))
        self.interpretations = SessionManager(
            self.pinch, connect_receiving_voice,
            on_transcript=self._engine_transcript, on_status=self._engine_status,
        )
        for name in self._extensions:
            await self.load_extension(name)
            log.info("loaded extension %s", name)
        synced = await self.tree.sync()
        log.info("synced %d application commands", len(synced))

    def add_flush_hook(self, hook: FlushHook) -> None:
        """Await ``hook`` during a graceful shutdown, once every run has stopped."""
        self.flush_hooks.append(hook)

    async def close(self) -> None:
        if self.interpretations is not None:
            await self.interpretations.aclose()
        if self.pinch is not None:
            await self.pinch.aclose()
        await super().close()
        if self.observability is not None:
            await self.observability.aclose()

    # -- engine output --------------------------------------------------------------

    def _engine_transcript(self, transcript: AttributedTranscript) -> None:
        self.metrics.on_transcript(transcript)
        self.dispatch("interpretation_transcript", transcript)

    def _engine_status(self, status: RunStatus) -> None:
        self.metrics.on_status(status)
        self.dispatch("interpretation_status", status)

    # -- views for health and metrics -----------------------------------------------

    def shard_states(self) -> list[ShardState]:
        """Each shard of this process: connected, heartbeat latency, guilds served."""
        if self.is_closed():
            return []
        guilds = collections.Counter(guild.shard_id for guild in self.guilds)
        states = []
        for shard_id, info in sorted(self.shards.items()):
            latency = info.latency
            states.append(ShardState(shard_id, not info.is_closed(),
                                     latency if math.isfinite(latency) else None,
                                     guilds.get(shard_id, 0)))
        return states

    def _runs(self) -> dict[int, ChannelInterpretation]:
        return self.interpretations.runs if self.interpretations is not None else {}

    def _voice_client_of(self, guild_id: int) -> object | None:
        guild = self.get_guild(guild_id)
        return guild.voice_client if guild is not None else None

    def _guild_of_channel(self, channel_id: int) -> int | None:
        channel = self.get_channel(channel_id)
        guild = getattr(channel, "guild", None)
        return guild.id if isinstance(guild, discord.Guild) else None

    # -- gateway events -------------------------------------------------------------

    async def on_shard_disconnect(self, shard_id: int) -> None:
        if shard_id not in self._disconnected_shards:
            self._disconnected_shards.add(shard_id)
            log.warning("gateway shard %d disconnected", shard_id)

    async def on_shard_connect(self, shard_id: int) -> None:
        self._gateway_back(shard_id, "reconnected")

    async def on_shard_resumed(self, shard_id: int) -> None:
        self._gateway_back(shard_id, "resumed")

    def _gateway_back(self, shard_id: int, how: str) -> None:
        if shard_id in self._disconnected_shards:
            self._disconnected_shards.discard(shard_id)
            self.metrics.gateway_reconnected()
            log.info("gateway shard %d %s", shard_id, how)

    async def on_voice_state_update(self, member: discord.Member, before: discord.VoiceState,
                                    after: discord.VoiceState) -> None:
        if self.interpretations is not None:
            await self.interpretations.on_voice_state_update(member, before, after)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        if self.interpretations is not None:
            await self.interpretations.on_channel_deleted(channel)


async def connect_receiving_voice(channel: discord.VoiceChannel) -> ReceivingVoiceClient:
    """Join ``channel`` with the voice client that also receives members' audio."""
    return await channel.connect(cls=ReceivingVoiceClient, timeout=15, self_deaf=False)



def run(settings: Settings) -> int:
    """Run the bot until SIGTERM/SIGINT; the process exit status."""
    return asyncio.run(serve(settings))


async def serve(settings: Settings, *, extensions: tuple[str, ...] = EXTENSIONS,
                **client_options: Any) -> int:
    """Log in, serve until a signal, shut down gracefully. 0 when all went to plan.

    1 when the bot could not run (rejected token, an error that ended the client)
    or the shutdown did not finish within ``SHUTDOWN_TIMEOUT``.
    """
    bot = InterpretBot(settings, extensions=extensions, **client_options)
    shutdown = GracefulShutdown(bot, settings.shutdown_timeout_s)
    shutdown.install_signal_handlers()
    log.info("starting (%s)", settings.shards.describe())
    try:
        async with bot:
            client = asyncio.create_task(bot.start(settings.discord_token.reveal()),
                                         name="discord-client")
            signalled = asyncio.create_task(shutdown.wait_requested(), name="await-signal")
            await asyncio.wait({client, signalled}, return_when=asyncio.FIRST_COMPLETED)
            if not signalled.done():
                signalled.cancel()
                error = client.exception()
                if error is not None:
                    raise error
                log.error("the Discord client stopped by itself")
                return 1
            on_time = await shutdown.run()
            try:
                async with asyncio.timeout(1.0):
                    await client
            except Exception as exc:  # ended by close(): only worth a debug line
                log.debug("client ended with %r", exc)
            return 0 if on_time else 1
    except discord.LoginFailure:
        log.error("Discord rejected DISCORD_TOKEN: check the bot token in the developer "
                  "portal")
        return 1
    except Exception:
        log.exception("the bot stopped on an error")
        return 1
    finally:
        shutdown.remove_signal_handlers()
