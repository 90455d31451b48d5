"""Two bot processes with different shards against one fake Discord with two guilds:
each one receives, and serves, only the guild of its shard.

Both run as real processes (tests/support/served_bot.py): one with
``SHARD_COUNT=2 SHARD_IDS=<n>``, the other as a StatefulSet pod would, with
``SHARD_IDS=ordinal`` and ``HOSTNAME=interpret-bot-<m>``. Both share one PostgreSQL
database (``DATABASE_URL`` from the PostgreSQL fixture), as Kubernetes shards do: each
one's guild configuration, set through ``/interpret config``, lands in that database.
"""

from __future__ import annotations

import json
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.store import Store
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.model import Channel, ChannelType, Guild
from tests.fakes.discord.sharding import add_guild_on_shard, shard_of
from tests.fakes.discord.world import World
from tests.fakes.pinch import PinchSimulator
from tests.support.postgres import PostgresServer
from tests.support.served_bot import BotProcess, bot_processes

SHARDS = 2


@pytest.fixture
def processes() -> Iterator[list[BotProcess]]:
    with bot_processes() as started:
        yield started


@pytest.fixture
async def two_guild_fake() -> AsyncIterator[FakeDiscord]:
    world = World.default()
    first = shard_of(world.guild.id, SHARDS)
    add_guild_on_shard(world, "Second Guild", (1 - first, SHARDS))
    async with FakeDiscord(world) as fake:
        yield fake


def channel_of(guild: Guild, kind: ChannelType) -> Channel:
    return next(c for c in guild.channels.values() if c.type == kind)


def guilds_sent(fake: FakeDiscord, shard: int) -> list[int]:
    [session] = fake.gateway.sessions_on((shard, SHARDS))
    frames = [json.loads(frame) for _seq, frame in session.log]
    return [int(f["d"]["id"]) for f in frames if f["t"] == "GUILD_CREATE"]


async def test_each_shard_process_receives_and_serves_only_its_guild(
    two_guild_fake: FakeDiscord, tmp_path: Path, processes: list[BotProcess],
    simulator: PinchSimulator, postgres_server: PostgresServer,
) -> None:
    async with postgres_server.database("shards") as database_url:
        await _shards_serve_their_guilds(two_guild_fake, tmp_path, processes, simulator,
                                         database_url)


async def _shards_serve_their_guilds(fake: FakeDiscord, tmp_path: Path,
                                     processes: list[BotProcess], simulator: PinchSimulator,
                                     database_url: str) -> None:
    shared = {"DATABASE_URL": database_url,
              "SERVED_BOT_EXTENSIONS": "cogs.interpret,cogs.transcripts"}
    guilds = {shard_of(g.id, SHARDS): g for g in fake.world.guilds.values()}
    assert set(guilds) == {0, 1}
    bots = {
        # Each checks the Pinch API at start-up, as every real process does.
        0: BotProcess(fake, tmp_path / "shard0", SHARD_COUNT=str(SHARDS), SHARD_IDS="0",
                      PINCH_BASE_URL=simulator.base_url, **shared),
        1: BotProcess(fake, tmp_path / "shard1", SHARD_COUNT=str(SHARDS), SHARD_IDS="ordinal",
                      HOSTNAME="interpret-bot-1", PINCH_BASE_URL=simulator.base_url, **shared),
    }
    for bot in bots.values():
        processes.append(bot)
        bot.start()
    for bot in bots.values():
        await bot.wait_ready()

    for shard, bot in bots.items():
        other = guilds[1 - shard]
        # Discord's side: one session per shard, given only its guild, nothing of the other.
        assert guilds_sent(fake, shard) == [guilds[shard].id]
        [session] = fake.gateway.sessions_on((shard, SHARDS))
        assert not any(str(other.id) in frame for _seq, frame in session.log)
        # The bot's side: it knows one guild, on its shard.
        assert await bot.metric_labels("interpret_guilds", "shard") == {str(shard)}
        assert await bot.metric("interpret_guilds", shard=str(shard)) == 1

    # A command in each guild is answered by the process of that guild's shard, which
    # joins that guild's voice channel.
    for shard, guild in guilds.items():
        record = await fake.answered(await fake.invoke(
            "ops start", channel=channel_of(guild, ChannelType.TEXT), within=20), within=20)
        assert record.texts == [f"shard {shard}: started"], bots[shard].log()[-3000:]
        state = guild.voice_states.get(fake.bot_user_id)
        assert state is not None
        assert state.channel_id == channel_of(guild, ChannelType.VOICE).id
    for bot in bots.values():
        assert await bot.metric("interpret_active_runs") == 1

    # Each guild's configuration, set in that guild, lands in the one shared database.
    targets = {0: "de", 1: "fr"}
    for shard, guild in guilds.items():
        record = await fake.answered(await fake.invoke(
            "interpret config", channel=channel_of(guild, ChannelType.TEXT), within=20,
            options={"scope": "server", "target": targets[shard]}), within=20)
        assert record.texts[0].startswith("Saved."), bots[shard].log()[-3000:]
    async with await Store.open(database_url) as store:
        stored = {shard: (await store.server_config(guild.id)).target_language
                  for shard, guild in guilds.items()}
    assert stored == {0: "de-DE", 1: "fr-FR"}

    for bot in bots.values():
        bot.send(signal.SIGTERM)
    for bot in bots.values():
        assert await bot.wait_exit(within=25) == 0, bot.log()[-3000:]
