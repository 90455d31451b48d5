"""One process serving several shards: each of the three ways to ask for them
(``bot.sharding``) serves a guild whose shard is not 0 — ``/interpret start`` is
answered there and the run joins its voice channel.

The bot is built the way ``python -m bot`` builds it (:func:`bot.app.make_bot`) from
the settings' shard plan, parsed from ``SHARD_COUNT``/``SHARD_IDS`` text. The fake
Discord gives each shard's session only the guilds of that shard, and
``GET /gateway/bot`` recommends the count a test sets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.app import make_bot
from bot.sharding import parse_shards
from tests.e2e.commands.conftest import Interpret, RunClock, interpret_bot, interpret_settings
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.model import Channel, ChannelType, Guild
from tests.fakes.discord.sharding import Shard, add_guild_on_shard
from tests.fakes.pinch import PinchSimulator

#: discord.py IDENTIFYs a process's shards 5 s apart: READY for three takes over 10 s.
READY_WITHIN = 20.0


@asynccontextmanager
async def bot_with_shards(fake: FakeDiscord, simulator: PinchSimulator, tmp_path: Path, *,
                          shard_count: str = "", shard_ids: str = "") -> AsyncIterator[Interpret]:
    """The bot ``python -m bot`` runs with ``SHARD_COUNT``/``SHARD_IDS`` set so."""
    settings = dataclasses.replace(interpret_settings(fake, simulator, tmp_path),
                                   shards=parse_shards(shard_count, shard_ids))
    clock = RunClock()
    async with interpret_bot(fake, settings, clock, build=make_bot,
                             ready_within=READY_WITHIN) as bot:
        yield Interpret(fake, simulator, bot, settings, tmp_path, clock)


def channel_of(guild: Guild, kind: ChannelType) -> Channel:
    return next(c for c in guild.channels.values() if c.type == kind)


def shards_identified(fake: FakeDiscord) -> set[Shard]:
    return {session.shard for session in fake.gateway.sessions.values() if session.sharded}


async def start_in(interpret: Interpret, guild: Guild) -> str:
    """``/interpret start`` by the guild's owner in its ``#general``, for its voice channel
    (where one of its members is); its answer, once the bot's voice connection is up."""
    voice = channel_of(guild, ChannelType.VOICE)
    await interpret.fake.move_member(f"{guild.name}-alice", voice)
    record = await interpret.invoke("start", user=None, where=channel_of(guild, ChannelType.TEXT),
                                    target="es", channel=voice)
    await interpret.fake.wait_bot_voice_ready(voice, within=15)
    return await interpret.answer(record)


def assert_started(interpret: Interpret, guild: Guild, reply: str) -> None:
    assert "into Spanish (Spain) (`es-ES`)" in reply, reply
    assert interpret.bot.interpretations is not None
    run = interpret.bot.interpretations.get(guild.id)
    assert run is not None
    assert run.channel_id == channel_of(guild, ChannelType.VOICE).id


async def test_without_shard_settings_every_shard_discord_recommends_is_served(
    fake_discord: FakeDiscord, simulator: PinchSimulator, tmp_path: Path,
) -> None:
    fake_discord.world.recommended_shards = 2
    far = add_guild_on_shard(fake_discord.world, "Far", (1, 2))

    async with bot_with_shards(fake_discord, simulator, tmp_path) as interpret:
        assert shards_identified(fake_discord) == {(0, 2), (1, 2)}
        reply = await start_in(interpret, far)
        assert_started(interpret, far, reply)


async def test_shard_count_alone_serves_every_shard_in_this_process(
    fake_discord: FakeDiscord, simulator: PinchSimulator, tmp_path: Path,
) -> None:
    far = add_guild_on_shard(fake_discord.world, "Far", (1, 2))  # Discord recommends 1

    async with bot_with_shards(fake_discord, simulator, tmp_path,
                               shard_count="2") as interpret:
        assert shards_identified(fake_discord) == {(0, 2), (1, 2)}
        reply = await start_in(interpret, far)
        assert_started(interpret, far, reply)


async def test_shard_ids_serve_those_shards_and_no_other(
    fake_discord: FakeDiscord, simulator: PinchSimulator, tmp_path: Path,
) -> None:
    elsewhere = add_guild_on_shard(fake_discord.world, "Elsewhere", (0, 3))
    far = add_guild_on_shard(fake_discord.world, "Far", (2, 3))

    async with bot_with_shards(fake_discord, simulator, tmp_path,
                               shard_count="3", shard_ids="1,2") as interpret:
        assert shards_identified(fake_discord) == {(1, 3), (2, 3)}
        assert interpret.bot.get_guild(elsewhere.id) is None  # shard 0 is another process's
        reply = await start_in(interpret, far)
        assert_started(interpret, far, reply)


async def test_health_names_each_recommended_shard_with_its_guilds(
    fake_discord: FakeDiscord, simulator: PinchSimulator, tmp_path: Path,
) -> None:
    fake_discord.world.recommended_shards = 2
    add_guild_on_shard(fake_discord.world, "Far", (1, 2))
    expected = {shard: sum(1 for g in fake_discord.world.guilds if (g >> 22) % 2 == shard)
                for shard in (0, 1)}

    async with bot_with_shards(fake_discord, simulator, tmp_path) as interpret:
        states = interpret.bot.shard_states()
        assert [(s.shard_id, s.connected, s.guilds) for s in states] == [
            (0, True, expected[0]), (1, True, expected[1])]
        assert interpret.bot.health.gateway() == "ok"
