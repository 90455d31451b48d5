"""What this package needs from the segment store, named as protocols.

The store (``bot/store/``) keeps one row per utterance; its one model of a
segment is :class:`~bot.store.segments.StoredSegment`, which the writer builds
and the export reads back. This package needs only three things of the store:

- :class:`SegmentSink` (``add_segment``): the writer hands every finished
  utterance to it;
- :class:`SegmentSource` (``segments`` / ``last_run_id``): the export reads a run;
- :class:`MemberSegmentEraser` (``forget_member``): ``/interpret me forget``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.store.segments import StoredSegment


class SegmentSink(Protocol):
    async def add_segment(self, seg: StoredSegment) -> None: ...


class SegmentSource(Protocol):
    async def segments(self, guild_id: int, run_id: str) -> Sequence[StoredSegment]: ...
    async def last_run_id(self, guild_id: int) -> str | None: ...


class MemberSegmentEraser(Protocol):
    async def forget_member(self, guild_id: int, member_id: int) -> int: ...
