"""What a moderator does to a thread: archive (and lock) it, or delete it.

Scripting helpers over a :class:`~tests.fakes.discord.FakeDiscord`, and the rule
the REST handlers apply: an archived *and locked* thread refuses new messages and
edits with 400 / 50083 until someone who may manage threads reopens it (an archived
thread that is not locked is reopened by the next message, as on Discord).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.fakes.discord import payloads
from tests.fakes.discord.model import Channel
from tests.fakes.discord.validation import ApiError

if TYPE_CHECKING:
    from tests.fakes.discord.server import FakeDiscord

THREAD_ARCHIVED = 50083


def check_thread_open(channel: Channel) -> None:
    if channel.is_thread and channel.archived and channel.locked:
        raise ApiError(400, THREAD_ARCHIVED, "Thread is archived")


async def archive_thread(fake: FakeDiscord, thread: Channel, *, locked: bool = False) -> None:
    """Archive ``thread`` (and lock it) as a moderator would: THREAD_UPDATE to the bot."""
    thread.archived = True
    thread.locked = locked
    await fake.gateway.dispatch("THREAD_UPDATE", payloads.channel(thread))


async def delete_thread(fake: FakeDiscord, thread: Channel, *, announce: bool = True) -> None:
    """Delete ``thread`` and its messages: THREAD_DELETE to the bot (unless ``announce``
    is false: the event is lost); later requests to it answer 404 Unknown Channel."""
    guild = fake.guild
    guild.channels.pop(thread.id, None)
    for message in fake.world.messages.values():
        if message.channel_id == thread.id:
            message.deleted = True
    if not announce:
        return
    await fake.gateway.dispatch("THREAD_DELETE", {
        "id": str(thread.id), "guild_id": str(guild.id),
        "parent_id": str(thread.parent_id), "type": int(thread.type)})
