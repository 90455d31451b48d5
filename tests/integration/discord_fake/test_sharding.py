"""The fake gateway shards like Discord: a session gets only its shard's guilds, and an
out-of-range shard is refused with 4010. It can also go away and come back."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.sharding import add_guild_on_shard, shard_of
from tests.fakes.discord.world import World


async def identify(fake: FakeDiscord, shard: list[int]) -> tuple[list[dict[str, Any]], int | None]:
    """IDENTIFY over a raw websocket; the dispatches received, and the close code if closed."""
    frames: list[dict[str, Any]] = []
    async with aiohttp.ClientSession(connector=fake.connector()) as http, http.ws_connect(
            "wss://gateway.discord.gg/?v=10&encoding=json") as ws:
        await ws.receive_json()  # HELLO
        await ws.send_json({"op": 2, "d": {"token": fake.bot_token, "intents": 1 << 0,
                                           "properties": {}, "shard": shard}})
        while True:
            msg = await ws.receive(timeout=2)
            if msg.type != aiohttp.WSMsgType.TEXT:
                return frames, ws.close_code
            frame = json.loads(msg.data)
            frames.append(frame)
            no_guilds = frame["t"] == "READY" and not frame["d"]["guilds"]
            if frame["t"] == "GUILD_CREATE" or no_guilds:
                return frames, None


async def test_a_session_gets_only_the_guilds_of_its_shard() -> None:
    world = World.default()
    first = shard_of(world.guild.id, 2)
    second = add_guild_on_shard(world, "Other", (1 - first, 2))
    async with FakeDiscord(world) as fake:
        frames, closed = await identify(fake, [1 - first, 2])
    assert closed is None
    ready = frames[0]["d"]
    assert ready["shard"] == [1 - first, 2]
    assert [g["id"] for g in ready["guilds"]] == [str(second.id)]
    assert frames[1]["d"]["id"] == str(second.id)


async def test_an_out_of_range_shard_is_closed_with_4010(fake_discord: FakeDiscord) -> None:
    _frames, closed = await identify(fake_discord, [2, 2])
    assert closed == 4010


async def test_while_away_the_gateway_refuses_connections(fake_discord: FakeDiscord) -> None:
    await fake_discord.gateway.go_away()
    async with aiohttp.ClientSession(connector=fake_discord.connector()) as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect("wss://gateway.discord.gg/?v=10")
    assert refused.value.status == 503
    fake_discord.gateway.come_back()
    frames, closed = await identify(fake_discord, [0, 1])
    assert closed is None
    assert frames[0]["t"] == "READY"
