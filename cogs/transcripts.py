"""Listener: the engine's events and thread deletions → the bot's transcript service.

Thin on purpose: every decision lives in :mod:`bot.transcripts`. Transcripts are
pushed synchronously so they reach the writer in the order the engine emitted them.
"""

from __future__ import annotations

import discord
from discord.ext import commands

from bot.app import InterpretBot
from bot.interpretation.events import AttributedTranscript, RunStatus
from bot.transcripts import TranscriptService


class Transcripts(commands.Cog):
    def __init__(self, service: TranscriptService) -> None:
        self.service = service

    @commands.Cog.listener()
    async def on_interpretation_transcript(self, transcript: AttributedTranscript) -> None:
        self.service.on_transcript(transcript)

    @commands.Cog.listener()
    async def on_interpretation_status(self, status: RunStatus) -> None:
        await self.service.on_status(status)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        self.service.thread_deleted(payload.thread_id)


async def setup(bot: InterpretBot) -> None:
    if bot.transcripts is None:
        raise RuntimeError("the bot creates its transcript service before loading cogs")
    await bot.add_cog(Transcripts(bot.transcripts))
