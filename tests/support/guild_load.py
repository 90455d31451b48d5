"""Several guilds served by one bot at once: each started through ``/interpret start``,
and what each got back in its transcript thread.

Shared by the load test (``tests/e2e/commands/test_load_across_guilds.py``) and
``scripts/bench load`` (``tests/benchmarks/guilds.py``). A guild here is the fake's
default one or one made by :func:`~tests.fakes.discord.sharding.add_guild_on_shard`:
its first text channel takes the commands and the transcript thread, its first voice
channel is interpreted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cogs.interpret.formatting import DONE_PUBLICLY
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.model import (
    Channel,
    ChannelType,
    Guild,
    InteractionRecord,
    Member,
    Message,
)
from tests.fakes.discord.rest_base import EPHEMERAL

_INLINE_NAME = re.compile(r"^\*\*(.+?)\*\*", re.MULTILINE)
_ESCAPED = re.compile(r"\\(.)")


def text_channel(guild: Guild) -> Channel:
    return next(c for c in guild.channels.values() if c.type == ChannelType.TEXT)


def voice_channel(guild: Guild) -> Channel:
    return next(c for c in guild.channels.values() if c.type == ChannelType.VOICE)


def humans(guild: Guild) -> list[Member]:
    """The guild's members who are neither bots nor its owner (who starts the run)."""
    return [m for m in guild.members.values() if not m.user.bot and m.id != guild.owner_id]


async def start_interpreting(fake: FakeDiscord, guild: Guild,
                             within: float = 30.0) -> InteractionRecord:
    """``/interpret start target:es`` by the guild's owner for its voice channel; returns
    once the bot said so publicly and is in the call with DAVE settled."""
    voice = voice_channel(guild)
    record = await fake.invoke("interpret start", channel=text_channel(guild), within=within,
                               options={"target": "es", "channel": voice})
    await fake.answered(record, within)
    if record.texts[:1] != [DONE_PUBLICLY]:
        raise AssertionError(f"/interpret start in {guild.name} answered {record.texts}")
    await fake.wait_for(lambda: [m for m in record.followups if not m.flags & EPHEMERAL],
                        within, f"the public answer to /interpret start in {guild.name}")
    await fake.wait_bot_voice_ready(voice, within)
    await fake.wait_dave_ready(voice, within)
    return record


def thread_posts(fake: FakeDiscord, guild: Guild) -> list[Message]:
    """Every live message in the threads of the guild's text channel, thread by thread."""
    parent = text_channel(guild).id
    threads = [c.id for c in guild.channels.values() if c.is_thread and c.parent_id == parent]
    return [m for thread in threads for m in fake.messages_in(thread)]


def translations_posted(posts: Iterable[Message]) -> int:
    """Translated utterances in ``posts``: each is one quoted line (``bot.transcripts.render``),
    however the posts were merged."""
    return sum(line.startswith("> ") for m in posts for line in m.content.splitlines())


def posters(posts: Iterable[Message]) -> set[str]:
    """Whose utterances ``posts`` hold: the webhook's name, or the names written inline
    (markdown escapes undone)."""
    names: set[str] = set()
    for m in posts:
        if m.webhook_id is not None and m.username:
            names.add(m.username)
        names.update(_ESCAPED.sub(r"\1", name) for name in _INLINE_NAME.findall(m.content))
    return names
