"""The transcript thread against the fake Discord: the bot with ``cogs.transcripts`` loaded,
a run opened on the default guild's voice channel, and engine events made by hand.

:class:`Scene` speaks for the engine: ``said``/``translated``/``interim`` build the
:class:`AttributedTranscript` s a link would emit and dispatch them as the bot does
(``bot.dispatch("interpretation_transcript", ...)``), so they travel the real
listener → service → writer → discord.py → fake Discord path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, cast

import discord
import pytest

from bot.app import InterpretBot
from bot.interpretation.events import AttributedTranscript, RunState, RunStatus
from bot.pinch import TranscriptEvent
from bot.pinch.transcripts import TranscriptKind
from bot.transcripts import TranscriptRun, TranscriptService, TranscriptWriter, WriterConfig
from tests.fakes.discord import FakeDiscord, Message
from tests.fakes.discord.model import Channel
from tests.support.segments import MemorySegments
from tests.support.waiting import eventually

#: Quick enough for tests; the 5 s default is exercised by the unit tests of the pairer.
TEST_CONFIG = WriterConfig(translation_wait_s=0.5, retry_base_s=0.05, retry_max_s=0.5,
                           flush_timeout_s=20.0)


@dataclass
class Scene:
    fake: FakeDiscord
    bot: InterpretBot
    service: TranscriptService
    store: MemorySegments
    voice: discord.VoiceChannel
    text: discord.TextChannel
    writer: TranscriptWriter | None = None
    run: TranscriptRun | None = None

    async def open_run(self, **options: Any) -> TranscriptWriter:
        options.setdefault("source_language", "en-US")
        options.setdefault("target_language", "es-ES")
        self.run = TranscriptRun(self.voice, self.text, **options)
        self.writer = await self.service.open_run(self.run)
        return self.writer

    @property
    def run_id(self) -> str:
        assert self.run is not None, "open_run first"
        return self.run.run_id

    async def finish(self) -> None:
        """What the stop command awaits: the run's posts are in the thread."""
        await self.service.finish(self.run_id)

    def member_id(self, name: str) -> int:
        return self.fake.member(name).id

    def _emit(self, name: str | None, kind: str, text: str, *, final: bool = True,
              language: str | None = "en-US", link: str | None = None,
              member: str | None = None, at: float | None = None) -> None:
        member_id = None if member is None else self.member_id(member)
        link = link or (f"member-{member_id}" if member_id is not None else "mixed")
        event = TranscriptEvent(cast(TranscriptKind, kind), text, final, language,
                                time.time() if at is None else at, 0.9 if final else None)
        self.bot.dispatch("interpretation_transcript",
                          AttributedTranscript(self.voice.id, member_id, event, link,
                                               run_id=self.run_id))

    def said(self, member: str | None, text: str, **kw: Any) -> None:
        self._emit(member, "original", text, member=member, **kw)

    def translated(self, member: str | None, text: str, **kw: Any) -> None:
        kw.setdefault("language", "es-ES")
        self._emit(member, "translated", text, member=member, **kw)

    def interim(self, member: str, text: str, **kw: Any) -> None:
        self._emit(member, "original", text, member=member, final=False, **kw)

    def utterance(self, member: str, original: str, translation: str, **kw: Any) -> None:
        self.said(member, original, **kw)
        self.translated(member, translation, **kw)

    def stopped(self, reason: str = "stop") -> None:
        self.bot.dispatch("interpretation_status",
                          RunStatus(self.voice.id, RunState.STOPPED, reason,
                                    run_id=self.run_id))

    # -- reading back ----------------------------------------------------------------

    @property
    def thread(self) -> Channel:
        threads = self.fake.threads_in(self.fake.text_channel)
        assert threads, "no transcript thread"
        return threads[-1]

    def thread_id(self) -> int | None:
        """The newest thread's id, ``None`` while there is none."""
        threads = self.fake.threads_in(self.fake.text_channel)
        return threads[-1].id if threads else None

    def posts(self, thread: Channel | None = None) -> list[Message]:
        if thread is None and not self.fake.threads_in(self.fake.text_channel):
            return []
        return self.fake.messages_in(thread or self.thread)

    async def wait_posts(self, count: int, within: float = 10.0,
                         thread: Channel | None = None) -> list[Message]:
        await eventually(lambda: len(self.posts(thread)) >= count, within)
        return self.posts(thread)


def with_config(service: TranscriptService, **changes: Any) -> None:
    service.config = replace(service.config, **changes)


@pytest.fixture
def discord_bot_extensions() -> tuple[str, ...]:
    return ("cogs.transcripts",)


@pytest.fixture
async def scene(fake_discord: FakeDiscord, discord_bot: InterpretBot) -> Scene:
    service = discord_bot.transcripts
    assert service is not None
    store = MemorySegments()
    service.config = TEST_CONFIG
    service.sink = store
    voice = discord_bot.get_channel(fake_discord.voice_channel.id)
    text = discord_bot.get_channel(fake_discord.text_channel.id)
    assert isinstance(voice, discord.VoiceChannel)
    assert isinstance(text, discord.TextChannel)
    return Scene(fake_discord, discord_bot, service, store, voice, text)
