"""Sharding as Discord does it, for the fake gateway and for building multi-guild worlds.

A gateway session IDENTIFYs with ``shard: [shard_id, shard_count]`` (absent means
``[0, 1]``) and then receives only the guilds, and the guild events, of guilds with
``(guild_id >> 22) % shard_count == shard_id``. Events without a guild (READY,
RESUMED, INTERACTION_CREATE in DMs...) go to every session. An IDENTIFY whose
shard is out of range is closed with 4010 *Invalid shard*, like Discord.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.discord.model import (
    DEFAULT_EVERYONE,
    Channel,
    ChannelType,
    Guild,
    Member,
    Role,
    User,
)
from tests.fakes.discord.world import World

Shard = tuple[int, int]
"""(shard_id, shard_count)"""

UNSHARDED: Shard = (0, 1)
INVALID_SHARD_CLOSE = 4010


class InvalidShard(ValueError):
    pass


def shard_of(guild_id: int, shard_count: int) -> int:
    return (guild_id >> 22) % shard_count


def identify_shard(data: dict[str, Any]) -> Shard:
    raw = data.get("shard")
    if raw is None:
        return UNSHARDED
    try:
        shard_id, count = int(raw[0]), int(raw[1])
    except (TypeError, ValueError, IndexError):
        raise InvalidShard(str(raw)) from None
    if count < 1 or not 0 <= shard_id < count:
        raise InvalidShard(str(raw))
    return shard_id, count


def event_guild(event: str, data: dict[str, Any]) -> int | None:
    """The guild an event belongs to, if any."""
    if event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"):
        return int(data["id"])
    guild_id = data.get("guild_id") if isinstance(data, dict) else None
    return int(guild_id) if guild_id is not None else None


def serves(shard: Shard, guild_id: int | None) -> bool:
    return guild_id is None or shard_of(guild_id, shard[1]) == shard[0]


def add_guild_on_shard(world: World, name: str, shard: Shard) -> Guild:
    """A second (third...) guild like the default one, with an id on ``shard``.

    It has ``#general`` and ``Voice``, the world's bot as a member, an owner and the
    humans ``<name>-alice`` and ``<name>-bob`` (user names are unique per world).
    """
    shard_id, count = shard
    guild_id = world.new_id()
    while shard_of(guild_id, count) != shard_id:
        guild_id += 1 << 22  # one millisecond later: the next shard
    owner = User(world.new_id(), f"{name}-owner")
    world.users[owner.id] = owner
    guild = Guild(id=guild_id, name=name, owner_id=owner.id)
    guild.roles[guild.id] = Role(guild.id, "@everyone", int(DEFAULT_EVERYONE))
    world.guilds[guild.id] = guild
    text = Channel(world.new_id(), guild.id, ChannelType.TEXT, "general")
    voice = Channel(world.new_id(), guild.id, ChannelType.VOICE, "Voice", position=1)
    guild.channels[text.id] = text
    guild.channels[voice.id] = voice
    guild.members[owner.id] = Member(owner)
    guild.members[world.bot_user.id] = Member(world.bot_user)
    for human in ("alice", "bob"):
        world.add_member(guild, User(world.new_id(), f"{name}-{human}"))
    return guild
