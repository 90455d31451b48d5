"""discord.py still launches shards the way bot.startup.shard_launch reproduces."""

from __future__ import annotations

from bot.startup.shard_launch import missing_internals


def test_discord_py_shard_launch_registers_shards_as_our_launch_does() -> None:
    assert missing_internals() == []
