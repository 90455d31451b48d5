"""End to end: members speak in the fake Discord, the real engine interprets through LiveKit
and the Pinch simulator, and the transcript thread reads like the conversation.

The simulator answers each session's segments with its script (``DEFAULT_SCRIPT``, round
robin per session), so the thread's text tells which utterance a post holds.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pysubs2
import pytest

from bot.app import InterpretBot
from bot.interpretation.events import AttributedTranscript
from bot.interpretation.router import RouterConfig, RoutingMode
from bot.interpretation.run import RunConfig
from bot.shutdown import GracefulShutdown
from bot.transcripts import TranscriptRun, TranscriptService
from bot.transcripts.commands import transcript_file
from tests.e2e.conftest import ALICE_HZ, BOB_HZ, write_wav
from tests.e2e.test_bot_engine_wiring import collector, settings_for
from tests.fakes.discord import FakeDiscord, Message
from tests.fakes.pinch import DEFAULT_SCRIPT, PinchSimulator
from tests.support.fixtures_discord import running_bot
from tests.support.fixtures_pinch import MakeSimulator
from tests.support.segments import MemorySegments
from tests.support.waiting import eventually

POSTS = r"^/webhooks/\d+/[^/]+$|^/channels/\d+/messages$"


@dataclass
class Live:
    fake: FakeDiscord
    bot: InterpretBot
    service: TranscriptService
    store: MemorySegments
    run: TranscriptRun | None = None

    def posts(self) -> list[Message]:
        threads = self.fake.threads_in(self.fake.text_channel)
        return self.fake.messages_in(threads[-1]) if threads else []

    async def start(self, mode: RoutingMode = RoutingMode.PER_SPEAKER) -> None:
        for name in ("alice", "bob"):
            await self.fake.move_member(name, self.fake.voice_channel)
        voice = self.bot.get_channel(self.fake.voice_channel.id)
        text = self.bot.get_channel(self.fake.text_channel.id)
        assert isinstance(voice, discord.VoiceChannel)
        assert isinstance(text, discord.TextChannel)
        assert self.bot.interpretations is not None
        assert self.bot.user is not None
        # What /interpret start does: the transcript first, so nothing said is missed.
        self.run = TranscriptRun(voice, text, "en-US", "es-ES")
        await self.service.open_run(self.run)
        await self.bot.interpretations.start(
            voice, RunConfig(target_language="es-ES", router=RouterConfig(mode=mode)),
            own_user_id=self.bot.user.id, run_id=self.run.run_id)
        await self.fake.wait_bot_voice_ready()
        await self.fake.wait_dave_ready()


@pytest.fixture
def script() -> list[tuple[str, str]]:
    return list(DEFAULT_SCRIPT)


@pytest.fixture
async def simulator(make_pinch_simulator: MakeSimulator,
                    script: list[tuple[str, str]]) -> PinchSimulator:
    return await make_pinch_simulator(script=script)


@pytest.fixture
async def live(fake_discord: FakeDiscord, simulator: PinchSimulator) -> AsyncIterator[Live]:
    async with running_bot(fake_discord, settings=settings_for(fake_discord, simulator),
                           extensions=("cogs.transcripts",)) as bot:
        assert bot.transcripts is not None
        store = MemorySegments()
        bot.transcripts.sink = store
        yield Live(fake_discord, bot, bot.transcripts, store)


INJECTION = ("@everyone <@123456789012345678> <#1> **bold** `x`",
             "```@here``` ||spoiler|| <@&42> # heading")


@pytest.mark.parametrize("script", [[INJECTION]])
async def test_what_the_interpreter_says_never_formats_or_pings(
    live: Live, simulator: PinchSimulator, tmp_path: Path,
) -> None:
    await live.start()
    await _alternate(live, tmp_path, ["alice"])
    await eventually(lambda: live.posts() and "\n> " in live.posts()[0].content, 20)
    [post] = live.posts()
    assert post.allowed_mentions == {"parse": []}
    original, translation = post.content.split("\n")
    assert original == ("\\@everyone \\<\\@123456789012345678\\> \\<\\#1\\> "
                        "\\*\\*bold\\*\\* \\`x\\`")
    assert translation == ("> \\`\\`\\`\\@here\\`\\`\\` \\|\\|spoiler\\|\\| "
                           "\\<\\@&42\\> \\# heading")


def _said_in_order(live: Live) -> list[tuple[str, str]]:
    """(original, translation) of every script line found in the thread, in order."""
    text = "\n".join(p.content for p in live.posts())
    pattern = "|".join(re.escape(expected_post(*line)) for line in DEFAULT_SCRIPT)
    by_text = {expected_post(*line): line for line in DEFAULT_SCRIPT}
    return [by_text[m.group(0)] for m in re.finditer(pattern, text)]


def expected_post(original: str, translation: str) -> str:
    return f"{original}\n> {translation}"


async def _alternate(live: Live, tmp_path: Path, turns: list[str]) -> None:
    """Each member in turn says one second of tone, a second of silence between turns."""
    tones = {"alice": write_wav(tmp_path / "a.wav", ALICE_HZ, 1.0),
             "bob": write_wav(tmp_path / "b.wav", BOB_HZ, 1.0)}
    for member in turns:
        await live.fake.speak(member, tones[member])
        await asyncio.sleep(1.0)


async def test_per_speaker_alternating_turns_one_post_each_in_order_under_the_speaker(
    live: Live, simulator: PinchSimulator, tmp_path: Path,
) -> None:
    await live.start(RoutingMode.PER_SPEAKER)
    turns = ["alice", "bob", "alice", "bob"]
    await _alternate(live, tmp_path, turns)
    await eventually(lambda: len(live.posts()) >= 4 and all("\n> " in p.content
                                                            for p in live.posts()), 20)
    posts = live.posts()
    # Per speaker, each member has their own session: their n-th turn is script line n.
    lines = [DEFAULT_SCRIPT[0], DEFAULT_SCRIPT[0], DEFAULT_SCRIPT[1], DEFAULT_SCRIPT[1]]
    assert [(p.username, p.content) for p in posts] == [
        (m.title(), expected_post(*line)) for m, line in zip(turns, lines, strict=True)]
    assert all(p.allowed_mentions == {"parse": []} for p in posts)

    # The stored segments export to subtitles whose timings match them.
    await eventually(lambda: len(live.store.rows) == 4)
    guild = live.bot.get_guild(live.fake.guild.id)
    assert guild is not None
    assert live.run is not None
    file = await transcript_file(live.store, live.service, guild, "srt",
                                 check_reader=lambda voice_channel_id: None)
    subs = pysubs2.SSAFile.from_string(file.fp.read().decode(), format_="srt")
    stored = await live.store.segments(guild.id, live.run.run_id)
    assert [e.plaintext.split(":")[0] for e in subs] == ["Alice", "Bob", "Alice", "Bob"]
    for event, seg in zip(subs, stored, strict=True):
        start_ms = (seg.started_at - live.run.started_at).total_seconds() * 1000
        end_ms = (seg.ended_at - live.run.started_at).total_seconds() * 1000
        assert abs(event.start - start_ms) <= 50
        assert abs(event.end - end_ms) <= 50


async def test_mixed_mode_alternating_turns_one_post_each_in_order_under_the_speaker(
    live: Live, simulator: PinchSimulator, tmp_path: Path,
) -> None:
    await live.start(RoutingMode.MIXED)
    turns = ["alice", "bob", "alice", "bob"]
    await _alternate(live, tmp_path, turns)
    await eventually(lambda: len(live.posts()) >= 4 and all("\n> " in p.content
                                                            for p in live.posts()), 20)
    posts = live.posts()
    # One session hears everybody: turn n is script line n.
    assert [(p.username, p.content) for p in posts] == [
        (m.title(), expected_post(*DEFAULT_SCRIPT[n])) for n, m in enumerate(turns)]


async def test_stop_with_posts_pending_they_are_in_the_thread_when_stop_returns(
    live: Live, simulator: PinchSimulator, tmp_path: Path,
) -> None:
    await live.start()
    live.fake.rest.bucket_limit("POST", POSTS, limit=1, per=2.0)
    translations: list[AttributedTranscript] = []
    live.bot.add_listener(collector(translations), "on_interpretation_transcript")
    await _alternate(live, tmp_path, ["alice", "bob", "alice"])
    # Every translation has reached the bot (stopping earlier would end the links first).
    await eventually(lambda: sum(t.event.kind == "translated" for t in translations) == 3, 15)
    assert live.run is not None
    writer = live.service.writer(live.run.run_id)
    assert writer is not None
    await eventually(lambda: writer.pending > 0 and live.posts())  # Discord is behind
    assert live.bot.interpretations is not None
    await live.bot.interpretations.stop(live.fake.guild.id, "stop")
    assert live.run is not None
    await live.service.finish(live.run.run_id)  # what /interpret stop awaits
    assert _said_in_order(live) == [DEFAULT_SCRIPT[0], DEFAULT_SCRIPT[0], DEFAULT_SCRIPT[1]]
    assert writer.counters.undeliverable == 0


async def test_sigterm_with_posts_pending_they_are_in_the_thread_before_the_bot_logs_out(
    live: Live, simulator: PinchSimulator, tmp_path: Path,
) -> None:
    await live.start()
    live.fake.rest.bucket_limit("POST", POSTS, limit=1, per=2.0)
    translations: list[AttributedTranscript] = []
    live.bot.add_listener(collector(translations), "on_interpretation_transcript")
    await _alternate(live, tmp_path, ["alice", "bob", "alice"])
    # Every translation has reached the bot (stopping earlier would end the links first).
    await eventually(lambda: sum(t.event.kind == "translated" for t in translations) == 3, 15)
    assert live.run is not None
    writer = live.service.writer(live.run.run_id)
    assert writer is not None
    await eventually(lambda: writer.pending > 0 and live.posts())
    # What SIGTERM/SIGINT run in bot.serve: refuse starts, notices, stop the runs (the
    # bot leaves voice), the flush hooks (the transcript service's), then logout.
    assert await GracefulShutdown(live.bot, timeout_s=30).run()
    assert _said_in_order(live) == [DEFAULT_SCRIPT[0], DEFAULT_SCRIPT[0], DEFAULT_SCRIPT[1]]
    posted_at = [c.at for c in live.fake.world.rest_calls
                 if c.method == "POST" and re.search(POSTS, c.path) and c.status == 200]
    assert max(posted_at) < min(live.fake.gateway.disconnects)
    assert live.bot.voice_clients == []
