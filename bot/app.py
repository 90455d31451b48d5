"""The Discord client: builds the :class:`InterpretBot` and runs it.

``setup_hook`` is where async resources start: the Pinch client, the
interpretation :class:`~bot.interpretation.manager.SessionManager`, then the
extensions; ``close`` stops them in reverse order. The engine's output reaches
cogs as discord.py events, ``on_interpretation_transcript(AttributedTranscript)``
and ``on_interpretation_status(RunStatus)``, so the transcript writer and the
commands listen without the engine knowing them. Tests construct the bot with
their own aiohttp connector to point it at the fake Discord.

:func:`run` is what ``python -m bot`` runs: the preflight checks, then the
Discord connection (:mod:`bot.startup`); losing the gateway afterwards is logged
by :mod:`bot.gateway_log` while discord.py reconnects.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

import discord
from discord.ext import commands

from bot.gateway_log import GatewayWatch, install_reconnect_attempt_filter
from bot.interpretation.manager import SessionManager
from bot.pinch import PinchClient
from bot.settings import Settings
from bot.startup.checks import run_preflight
from bot.startup.discord_run import ConnectPolicy, run_discord
from bot.voice.client import ReceivingVoiceClient
from bot.voice.internals_guard import missing_internals

log = logging.getLogger(__name__)

#: Extensions loaded at start-up, in order. Loading is all-or-nothing per extension.
EXTENSIONS: tuple[str, ...] = ()


def default_intents() -> discord.Intents:
    """Only what interpretation needs: guilds and voice states (no message content)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.voice_states = True
    return intents


class InterpretBot(commands.Bot):
    def __init__(
        self,
        settings: Settings,
        *,
        extensions: tuple[str, ...] = EXTENSIONS,
        **client_options: Any,
    ) -> None:
        client_options.setdefault("intents", default_intents())
        super().__init__(command_prefix=commands.when_mentioned, help_command=None,
                         **client_options)
        self.settings = settings
        self._extensions = extensions
        self.pinch: PinchClient | None = None
        self.interpretations: SessionManager | None = None
        self.gateway_watch = GatewayWatch()
        # Listeners rather than on_* methods: a cog or test defining on_disconnect
        # must not silence the gateway log.
        self.add_listener(self._gateway_ready, "on_connect")
        self.add_listener(self._gateway_resumed, "on_resumed")
        self.add_listener(self._gateway_lost, "on_disconnect")

    async def setup_hook(self) -> None:
        install_reconnect_attempt_filter()
        self.pinch = PinchClient(self.settings.pinch_base_url, self.settings.pinch_api_token)
        self.interpretations = SessionManager(
            self.pinch, connect_receiving_voice,
            on_transcript=lambda t: self.dispatch("interpretation_transcript", t),
            on_status=lambda s: self.dispatch("interpretation_status", s),
            voice_unavailable=check_voice_internals(),
        )
        for name in self._extensions:
            await self.load_extension(name)
            log.info("loaded extension %s", name)
        synced = await self.tree.sync()
        log.info("synced %d application commands", len(synced))

    async def close(self) -> None:
        # Each step runs whatever the one before it did: the Pinch client and the
        # Discord connection are closed even if stopping the runs failed.
        try:
            if self.interpretations is not None:
                await self.interpretations.aclose()
        except Exception:
            log.exception("stopping the interpretations failed")
        finally:
            try:
                if self.pinch is not None:
                    await self.pinch.aclose()
            except Exception:
                log.exception("closing the Pinch client failed")
            finally:
                await super().close()

    async def _gateway_ready(self) -> None:
        self.gateway_watch.connected("new session")

    async def _gateway_resumed(self) -> None:
        self.gateway_watch.connected("resumed")

    async def _gateway_lost(self) -> None:
        if self.is_closed():
            return  # our own shutdown
        socket = getattr(self.ws, "socket", None)
        self.gateway_watch.lost(getattr(socket, "close_code", None))

    async def on_voice_state_update(self, member: discord.Member, before: discord.VoiceState,
                                    after: discord.VoiceState) -> None:
        if self.interpretations is not None:
            await self.interpretations.on_voice_state_update(member, before, after)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        if self.interpretations is not None:
            await self.interpretations.on_channel_deleted(channel)


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


def client_options(settings: Settings) -> dict[str, Any]:
    """discord.py ``Client`` options that come from settings (the proxy, if any)."""
    if settings.discord_proxy is None:
        return {}
    return {"proxy": settings.discord_proxy.reveal()}


async def serve(settings: Settings, *, policy: ConnectPolicy | None = None) -> None:
    """Preflight checks, then the bot until it closes; raises ``StartupError``."""
    await run_preflight(settings)
    proxy = settings.discord_proxy
    await run_discord(
        lambda: InterpretBot(settings, **client_options(settings)),
        settings.discord_token,
        policy=policy,
        proxy_host=urlsplit(proxy.reveal()).hostname if proxy is not None else None,
    )


def run(settings: Settings) -> None:
    """Run the bot until it is stopped (Ctrl-C ends it quietly).

    Raises :class:`~bot.startup.errors.StartupError` for a failure the user can fix.
    """
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        log.info("stopped (interrupted)")
