"""Test-only extension for bots run as processes: ``/ops start`` and a stuck flush.

Loaded by :mod:`tests.support.served_bot` (never by the real bot), beside the real
cogs when a test asks for them:

- ``/ops start`` starts an interpretation of the guild's first voice channel through
  the bot's real :class:`~bot.interpretation.manager.SessionManager` and answers
  ``shard <id>: started`` (so a test sees which process served the guild);
- ``/ops links`` answers, as JSON, which Pinch session (LiveKit room or WebSocket
  session id) each member of the guild's run is interpreted in, so a benchmark can
  tell whose a simulator's session is (``scripts/bench load``);
- with ``OPS_FLUSH_HANGS=1`` in the environment it registers a flush hook that never
  returns (a stuck writer), so a test can show the shutdown bound holds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import InterpretBot
from bot.interpretation.manager import NotAccepting
from bot.interpretation.run import RunConfig

log = logging.getLogger(__name__)


class OpsTestCog(commands.Cog):
    ops = app_commands.Group(name="ops", description="Test-only operations commands")

    def __init__(self, bot: InterpretBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        if os.environ.get("OPS_FLUSH_HANGS") == "1":
            self.bot.add_flush_hook(self.flush)

    @ops.command(name="start", description="Interpret the first voice channel")
    async def start(self, interaction: discord.Interaction) -> None:
        guild = interaction.guild
        assert guild is not None
        assert self.bot.interpretations is not None
        assert self.bot.user is not None
        channel = guild.voice_channels[0]
        await interaction.response.defer(thinking=True)  # joining takes longer than 3 s
        try:
            await self.bot.interpretations.start(channel, RunConfig(target_language="es-ES"),
                                                 own_user_id=self.bot.user.id)
        except NotAccepting as exc:
            await interaction.edit_original_response(content=str(exc))
            return
        await interaction.edit_original_response(content=f"shard {guild.shard_id}: started")

    @ops.command(name="links", description="The Pinch session of each member of this run")
    async def links(self, interaction: discord.Interaction) -> None:
        guild = interaction.guild
        assert guild is not None
        manager = self.bot.interpretations
        run = manager.get(guild.id) if manager is not None else None
        rooms = {} if run is None else {str(member): room
                                        for member, room in run.link_rooms().items() if room}
        await interaction.response.send_message(json.dumps(rooms), ephemeral=True)

    async def flush(self) -> None:
        log.info("flush hook hanging on purpose")
        await asyncio.Event().wait()


async def setup(bot: commands.Bot) -> None:
    assert isinstance(bot, InterpretBot)
    await bot.add_cog(OpsTestCog(bot))
