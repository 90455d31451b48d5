"""The Discord client: builds the :class:`InterpretBot` and runs it.

``setup_hook`` is where async resources start (extensions, later the store);
``close`` stops them in reverse order. Tests construct the bot with their own
aiohttp connector to point it at the fake Discord; production passes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.ext import commands

from bot.settings import Settings

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

    async def setup_hook(self) -> None:
        for name in self._extensions:
            await self.load_extension(name)
            log.info("loaded extension %s", name)
        synced = await self.tree.sync()
        log.info("synced %d application commands", len(synced))


def run(settings: Settings) -> None:
    bot = InterpretBot(settings)
    # log_handler=None: logging is already configured, with redaction.
    bot.run(settings.discord_token.reveal(), log_handler=None)
