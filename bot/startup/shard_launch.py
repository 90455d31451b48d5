"""Connecting an auto-sharded client's shards at start-up: a failure ends ``connect``.

discord.py's ``AutoShardedClient.launch_shard`` retries a shard that cannot connect
every 5 s for ever, logging an ERROR with a traceback each time, and never tells
whoever awaits ``connect``. Start-up (:mod:`bot.startup.discord_run`) would then wait
out its READY timeout and could not name the cause. :func:`launch_shard` is the same
launch without the retry: the failure propagates out of ``connect``, and start-up
retries it on a fresh client or names it in one line, as it does for the plain
client. Only start-up launches shards; a shard that drops later reconnects through
discord.py's own ``Shard`` machinery, untouched.

It registers the shard the way discord.py does, in the client's private shard table
and event queue; :func:`missing_internals` checks that discord.py's own launch still
does exactly that (a unit test asserts the list is empty), and the bot falls back to
discord.py's launch when it does not.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any, Final

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.shard import Shard

#: The line of discord.py's ``launch_shard`` that :func:`launch_shard` reproduces.
_REGISTRATION: Final = "self.__shards[shard_id] = ret = Shard(ws, self, self.__queue.put_nowait)"
_SHARDS: Final = "_AutoShardedClient__shards"
_QUEUE: Final = "_AutoShardedClient__queue"


@functools.cache
def missing_internals() -> list[str]:
    """What of discord.py's shard launch :func:`launch_shard` relies on has changed."""
    try:
        source = inspect.getsource(discord.AutoShardedClient.launch_shard)
    except (OSError, TypeError):
        return ["the source of AutoShardedClient.launch_shard"]
    if _REGISTRATION not in source:
        return [f"AutoShardedClient.launch_shard registering shards as `{_REGISTRATION}`"]
    return []


async def launch_shard(client: discord.AutoShardedClient, gateway: yarl.URL, shard_id: int,
                       *, initial: bool) -> None:
    """Connect shard ``shard_id`` (HELLO, then IDENTIFY) and start reading it; raises
    what prevented the connection."""
    ws = await asyncio.wait_for(
        DiscordWebSocket.from_client(client, initial=initial, gateway=gateway,
                                     shard_id=shard_id),
        timeout=client.shard_connect_timeout)
    state: dict[str, Any] = vars(client)
    shard = Shard(ws, client, state[_QUEUE].put_nowait)
    state[_SHARDS][shard_id] = shard
    shard.launch()
