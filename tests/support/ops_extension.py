"""Test-only extension for bots run as processes: ``/ops start`` and a transcript outbox.

Loaded by :mod:`tests.support.served_bot` (never by the real bot). Until the
``/interpret`` commands and the transcript writer exist, it stands in for both, as
thin as possible:

- ``/ops start`` starts an interpretation of the guild's first voice channel through
  the bot's real :class:`~bot.interpretation.manager.SessionManager` and answers
  ``shard <id>: started`` (so a test sees which process served the guild);
- final translated transcripts wait in an outbox, as a writer's pending posts would,
  and a flush hook registered with ``bot.add_flush_hook`` posts them into a
  ``Transcripts`` thread of the guild's first text channel during shutdown; with
  ``OPS_FLUSH_HANGS=1`` in the environment the hook never returns (a stuck writer).
"""

from __future__ import annotations

import asyncio
import logging
import os

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import InterpretBot
from bot.interpretation.manager import NotAccepting
from bot.interpretation.run import AttributedTranscript, RunConfig

log = logging.getLogger(__name__)


class OpsTestCog(commands.Cog):
    ops = app_commands.Group(name="ops", description="Test-only operations commands")

    def __init__(self, bot: InterpretBot) -> None:
        self.bot = bot
        self.outbox: list[tuple[int, str]] = []  # (guild id, text)

    async def cog_load(self) -> None:
        self.bot.add_flush_hook(self.flush)

    @ops.command(name="start", description="Interpret the first voice channel")
    async def start(self, interaction: discord.Interaction) -> None:
        guild = interaction.guild
        assert guild is not None
        assert self.bot.interpretations is not None
        assert self.bot.user is not None
        channel = guild.voice_channels[0]
        try:
            await self.bot.interpretations.start(channel, RunConfig(target_language="es-ES"),
                                                 own_user_id=self.bot.user.id)
        except NotAccepting as exc:
            await interaction.response.send_message(str(exc))
            return
        await interaction.response.send_message(f"shard {guild.shard_id}: started")

    @commands.Cog.listener()
    async def on_interpretation_transcript(self, transcript: AttributedTranscript) -> None:
        event = transcript.event
        if event.kind == "translated" and event.is_final:
            channel = self.bot.get_channel(transcript.channel_id)
            guild = getattr(channel, "guild", None)
            if guild is not None:
                self.outbox.append((guild.id, event.text))

    async def flush(self) -> None:
        if os.environ.get("OPS_FLUSH_HANGS") == "1":
            log.info("flush hook hanging on purpose")
            await asyncio.Event().wait()
        pending, self.outbox = self.outbox, []
        for guild_id in dict.fromkeys(g for g, _ in pending):
            guild = self.bot.get_guild(guild_id)
            if guild is None:
                continue
            thread = await guild.text_channels[0].create_thread(
                name="Transcripts", type=discord.ChannelType.public_thread)
            for gid, text in pending:
                if gid == guild_id:
                    await thread.send(text)
        log.info("flushed %d pending transcripts", len(pending))


async def setup(bot: commands.Bot) -> None:
    assert isinstance(bot, InterpretBot)
    await bot.add_cog(OpsTestCog(bot))
