"""The Discord client: builds the :class:`InterpretBot` and runs it.

``setup_hook`` is where async resources start: the Pinch client, the
interpretation :class:`~bot.interpretation.manager.SessionManager`, the
:class:`~bot.transcripts.TranscriptService`, then the extensions; ``close``
stops them in reverse order: runs first, then the transcript flush (pending posts
reach their thread), and only then does the bot leave Discord. :func:`run` turns
SIGTERM (and SIGINT) into that same ``close``. The engine's output reaches cogs
as discord.py events, ``on_interpretation_transcript(AttributedTranscript)`` and
``on_interpretation_status(RunStatus)``, so the transcript writer and the
commands listen without the engine knowing them. Tests construct the bot with
their own aiohttp connector to point it at the fake Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

import discord
from discord.ext import commands

from bot.interpretation.manager import SessionManager
from bot.pinch import PinchClient
from bot.settings import Settings
from bot.transcripts import TranscriptService
from bot.voice.client import ReceivingVoiceClient

log = logging.getLogger(__name__)

#: Extensions loaded at start-up, in order. Loading is all-or-nothing per extension.
EXTENSIONS: tuple[str, ...] = ("cogs.transcripts",)


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
        self.transcripts: TranscriptService | None = None
        self._shutdown: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        self.pinch = PinchClient(self.settings.pinch_base_url, self.settings.pinch_api_token)
        self.interpretations = SessionManager(
            self.pinch, connect_receiving_voice,
            on_transcript=lambda t: self.dispatch("interpretation_transcript", t),
            on_status=lambda s: self.dispatch("interpretation_status", s),
        )
        self.transcripts = TranscriptService()
        for name in self._extensions:
            await self.load_extension(name)
            log.info("loaded extension %s", name)
        synced = await self.tree.sync()
        log.info("synced %d application commands", len(synced))

    async def close(self) -> None:
        if self.interpretations is not None:
            await self.interpretations.aclose()
        if self.transcripts is not None:
            await self.transcripts.aclose()
        if self.pinch is not None:
            await self.pinch.aclose()
        await super().close()

    async def on_voice_state_update(self, member: discord.Member, before: discord.VoiceState,
                                    after: discord.VoiceState) -> None:
        if self.interpretations is not None:
            await self.interpretations.on_voice_state_update(member, before, after)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        if self.interpretations is not None:
            await self.interpretations.on_channel_deleted(channel)

    def shutdown_soon(self, why: str) -> asyncio.Task[None]:
        """Close the bot in the background (from a signal handler); one close at a time."""
        if self._shutdown is None:
            log.info("%s: shutting down", why)
            self._shutdown = asyncio.create_task(self.close(), name="bot:shutdown")
        return self._shutdown


async def connect_receiving_voice(channel: discord.VoiceChannel) -> ReceivingVoiceClient:
    """Join ``channel`` with the voice client that also receives members' audio."""
    return await channel.connect(cls=ReceivingVoiceClient, timeout=15, self_deaf=False)


def install_shutdown_signals(bot: InterpretBot,
                             signals: tuple[signal.Signals, ...] = (signal.SIGTERM,
                                                                     signal.SIGINT)) -> None:
    """SIGTERM/SIGINT close the bot gracefully: runs stop, transcripts flush, then logout."""
    loop = asyncio.get_running_loop()
    for sig in signals:
        loop.add_signal_handler(sig, bot.shutdown_soon, sig.name)


def run(settings: Settings) -> None:
    bot = InterpretBot(settings)

    async def main() -> None:
        async with bot:
            install_shutdown_signals(bot)
            await bot.start(settings.discord_token.reveal())
            await bot.shutdown_soon("disconnected")  # a no-op when a signal started it

    # Logging is already configured, with redaction (discord.py's own setup is not used).
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
