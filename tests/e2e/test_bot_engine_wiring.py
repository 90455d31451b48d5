"""The bot owns the engine: runs started through it end cleanly when Discord takes the
bot out of the channel, and the engine's events reach listeners as discord.py events."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import discord

from bot.interpretation.events import AttributedTranscript, RunState, RunStatus
from bot.interpretation.run import RunConfig
from bot.secrets import Secret
from bot.settings import Settings
from tests.e2e.conftest import ALICE_HZ, write_wav
from tests.fakes.discord import FakeDiscord
from tests.fakes.pinch import PinchSimulator
from tests.support.fixtures_discord import running_bot
from tests.support.fixtures_pinch import PINCH_TEST_TOKEN
from tests.support.waiting import eventually


def collector(into: list[Any]) -> Callable[[Any], Coroutine[Any, Any, None]]:
    """A coroutine listener (discord.py requires one) that appends its argument."""
    async def listener(item: Any) -> None:
        into.append(item)
    return listener


def settings_for(fake: FakeDiscord, sim: PinchSimulator) -> Settings:
    return Settings(discord_token=Secret(fake.bot_token),
                    pinch_api_token=Secret(PINCH_TEST_TOKEN), pinch_base_url=sim.base_url)


async def test_transcripts_and_status_reach_listeners_as_bot_events(
    fake_discord: FakeDiscord, simulator: PinchSimulator, tmp_path: Path,
) -> None:
    statuses: list[RunStatus] = []
    transcripts: list[AttributedTranscript] = []
    async with running_bot(fake_discord, settings=settings_for(fake_discord, simulator)) as bot:
        bot.add_listener(collector(statuses), "on_interpretation_status")
        bot.add_listener(collector(transcripts), "on_interpretation_transcript")
        await fake_discord.move_member("alice", fake_discord.voice_channel)
        channel = bot.get_channel(fake_discord.voice_channel.id)
        assert isinstance(channel, discord.VoiceChannel)
        assert bot.interpretations is not None
        assert bot.user is not None
        await bot.interpretations.start(channel, RunConfig(target_language="es-ES"),
                                        own_user_id=bot.user.id)
        await fake_discord.wait_dave_ready()
        await fake_discord.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 0.8))
        await eventually(lambda: any(t.event.kind == "translated" for t in transcripts), 15)
        await bot.close()
    assert statuses[0].state is RunState.RUNNING
    assert {t.member_id for t in transcripts} == {fake_discord.member("alice").id}
    assert statuses[-1].state is RunState.STOPPED
    assert statuses[-1].reason == "bot shutting down"


async def _run_and_wait(fake: FakeDiscord, sim: PinchSimulator,
                        act: Callable[[], Coroutine[Any, Any, object]]) -> list[RunStatus]:
    statuses: list[RunStatus] = []
    async with running_bot(fake, settings=settings_for(fake, sim)) as bot:
        bot.add_listener(collector(statuses), "on_interpretation_status")
        channel = bot.get_channel(fake.voice_channel.id)
        assert isinstance(channel, discord.VoiceChannel)
        assert bot.interpretations is not None
        assert bot.user is not None
        await bot.interpretations.start(channel, RunConfig(target_language="es-ES"),
                                        own_user_id=bot.user.id)
        await fake.wait_bot_voice_ready()
        await act()
        await eventually(lambda: bot.interpretations is not None
                         and bot.interpretations.get(fake.guild.id) is None, 10)
    return [s for s in statuses if s.state is RunState.STOPPED]


async def test_voice_channel_deleted_ends_the_run_with_that_reason(
    fake_discord: FakeDiscord, simulator: PinchSimulator,
) -> None:
    stopped = await _run_and_wait(fake_discord, simulator,
                                  lambda: fake_discord.delete_channel(fake_discord.voice_channel))
    assert [s.reason for s in stopped] == ["the voice channel was deleted"]


async def test_bot_moved_to_another_channel_ends_the_run_with_that_reason(
    fake_discord: FakeDiscord, simulator: PinchSimulator,
) -> None:
    other = await fake_discord.add_channel("Other voice")

    async def move() -> None:
        await fake_discord.move_member("interpret-bot", other)

    stopped = await _run_and_wait(fake_discord, simulator, move)
    assert [s.reason for s in stopped] == ["the bot was moved to another channel"]


async def test_bot_disconnected_from_voice_ends_the_run_with_that_reason(
    fake_discord: FakeDiscord, simulator: PinchSimulator,
) -> None:
    async def kick() -> None:
        await fake_discord.move_member("interpret-bot", None)

    stopped = await _run_and_wait(fake_discord, simulator, kick)
    assert [s.reason for s in stopped] == ["the bot was disconnected from voice"]
