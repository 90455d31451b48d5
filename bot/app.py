"""The Discord client: builds the :class:`InterpretBot` and runs it.

``setup_hook`` is where async resources start: the services (store with its
migrations, Pinch client, interpretation
:class:`~bot.interpretation.manager.SessionManager`, member preferences, run
service; see :mod:`bot.service.container`), then the extensions, then the
command sync — only when the command definitions changed since the last sync
(their hash is kept in the store), or always with ``command_sync="force"``
(``python -m bot sync``). ``close`` stops everything in reverse order.

The engine's output reaches cogs as discord.py events:
``on_interpretation_transcript(AttributedTranscript)``,
``on_interpretation_status(RunStatus)``, and from the run service
``on_interpretation_ended(RunSummary)`` and
``on_interpretation_failure(FailureNotice)``. Tests construct the bot with their
own aiohttp connector to point it at the fake Discord.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Literal

import discord
from discord.ext import commands

from bot.command_tree import InterpretTree
from bot.interpretation.manager import SessionManager
from bot.pinch import PinchClient
from bot.service.command_sync import sync_commands
from bot.service.container import Services, open_services
from bot.settings import Settings
from bot.voice.client import ReceivingVoiceClient
from bot.voice.internals_guard import missing_internals

log = logging.getLogger(__name__)

#: Extensions loaded at start-up, in order. Loading is all-or-nothing per extension.
EXTENSIONS: tuple[str, ...] = ("cogs.interpret",)

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

    @property
    def services(self) -> Services:
        """The store, Pinch client, engine and run service (ready from ``setup_hook``)."""
        if self._services is None:
            raise ServicesNotReady("the bot's services are not running")
        return self._services

    @property
    def pinch(self) -> PinchClient:
        return self.services.pinch

    @property
    def interpretations(self) -> SessionManager:
        return self.services.manager

    async def setup_hook(self) -> None:
        self._services = await open_services(
            self.settings, connect_receiving_voice, self.dispatch,
            voice_unavailable=check_voice_internals(), clock=self._run_clock,
            tick_s=self._run_tick_s, pinch_options=self._pinch_options)
        for name in self._extensions:
            await self.load_extension(name)
            log.info("loaded extension %s", name)
        if self._command_sync != "never":
            self.commands_synced = await sync_commands(
                self.tree, self._services.store, force=self._command_sync == "force")

    async def close(self) -> None:
        # The Discord connection is closed whatever closing the services did.
        services, self._services = self._services, None
        try:
            if services is not None:
                await services.aclose()
        finally:
            await super().close()

    async def on_voice_state_update(self, member: discord.Member, before: discord.VoiceState,
                                    after: discord.VoiceState) -> None:
        if self._services is not None:
            await self._services.manager.on_voice_state_update(member, before, after)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        if self._services is not None:
            await self._services.manager.on_channel_deleted(channel)


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


def run(settings: Settings) -> None:
    bot = InterpretBot(settings)
    # log_handler=None: logging is already configured, with redaction.
    bot.run(settings.discord_token.reveal(), log_handler=None)


async def sync_now(settings: Settings, **client_options: Any) -> bool:
    """``python -m bot sync``: log in, register the commands with Discord, log out."""
    async with InterpretBot(settings, command_sync="force", **client_options) as bot:
        await bot.login(settings.discord_token.reveal())  # runs setup_hook, which syncs
        return bot.commands_synced


def sync(settings: Settings) -> None:
    asyncio.run(sync_now(settings))
