"""Messages the bot posts on its own: a run's summary, and failures that need a person.

Both come from the run service as discord.py events and go to the channel where
``start`` was run.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord.ext import commands

from bot.service.runs import FailureNotice, RunSummary
from cogs.interpret import formatting

log = logging.getLogger(__name__)


class InterpretEvents(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_interpretation_ended(self, summary: RunSummary) -> None:
        await self._post(summary.report_channel_id, formatting.summary(summary))

    @commands.Cog.listener()
    async def on_interpretation_failure(self, notice: FailureNotice) -> None:
        await self._post(notice.report_channel_id, f"⚠️ {notice.message}")

    async def _post(self, channel_id: int, text: str) -> None:
        channel: Any = self.bot.get_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("channel %d is gone; not posting: %s", channel_id, text)
            return
        try:
            await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            log.warning("could not post in channel %d: %s", channel_id, exc)
