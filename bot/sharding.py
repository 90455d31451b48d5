"""Which Discord shards this process serves: ``SHARD_COUNT`` and ``SHARD_IDS``.

Discord splits a bot's guilds over shards by ``(guild_id >> 22) % shard_count``;
each gateway connection serves one shard. Four ways to run:

- neither variable set: one process, discord.py asks Discord for the recommended
  shard count and runs them all;
- ``SHARD_COUNT=N`` alone: one process runs all N shards;
- ``SHARD_COUNT=N`` and ``SHARD_IDS=0,2``: this process runs only those shards
  (another process runs the rest);
- ``SHARD_COUNT=N`` and ``SHARD_IDS=ordinal``: the one shard named by the trailing
  number of ``HOSTNAME``, the way a Kubernetes StatefulSet names its pods
  (``interpret-bot-3`` → shard 3). Explicit on purpose: a host that merely happens to
  be called ``web-1`` never picks a shard by accident.

:func:`parse_shards` raises :class:`ValueError` with a message fit for the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

ORDINAL: Final = "ordinal"
_ORDINAL_RE: Final = re.compile(r"-(\d+)$")


@dataclass(frozen=True, slots=True)
class ShardPlan:
    """``count`` None: ask Discord. ``ids`` None: every shard of ``count``."""

    count: int | None = None
    ids: tuple[int, ...] | None = None

    def describe(self) -> str:
        if self.count is None:
            return "shards: as many as Discord recommends, all in this process"
        if self.ids is None:
            return f"shards: all {self.count} in this process"
        return f"shards: {', '.join(map(str, self.ids))} of {self.count}"


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord routes ``guild_id``'s events to."""
    return (guild_id >> 22) % shard_count


def parse_shards(count_text: str, ids_text: str, hostname: str = "") -> ShardPlan:
    count_text, ids_text = count_text.strip(), ids_text.strip()
    if not count_text:
        if ids_text:
            raise ValueError("SHARD_IDS needs SHARD_COUNT (the total number of shards)")
        return ShardPlan()
    try:
        count = int(count_text)
    except ValueError:
        raise ValueError("SHARD_COUNT must be a whole number such as 4") from None
    if count < 1:
        raise ValueError("SHARD_COUNT must be at least 1")
    if not ids_text:
        return ShardPlan(count)
    if ids_text.lower() == ORDINAL:
        ids: tuple[int, ...] = (_ordinal(hostname),)
    else:
        try:
            ids = tuple(sorted({int(part) for part in ids_text.split(",") if part.strip()}))
        except ValueError:
            raise ValueError("SHARD_IDS must be shard numbers separated by commas "
                             f"(such as 0,1) or '{ORDINAL}'") from None
        if not ids:
            raise ValueError("SHARD_IDS names no shard")
    outside = [i for i in ids if not 0 <= i < count]
    if outside:
        raise ValueError(f"SHARD_IDS {', '.join(map(str, outside))} outside 0..{count - 1} "
                         f"(SHARD_COUNT is {count})")
    return ShardPlan(count, ids)


def _ordinal(hostname: str) -> int:
    match = _ORDINAL_RE.search(hostname.strip())
    if match is None:
        raise ValueError(f"SHARD_IDS={ORDINAL} needs a HOSTNAME ending in -N, like a "
                         f"StatefulSet pod (interpret-bot-0); HOSTNAME is {hostname!r}")
    return int(match.group(1))
