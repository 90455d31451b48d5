"""Stored transcript segments, as this package sees them: shapes, not a storage engine.

The store (``bot/store/``) keeps one row per utterance. This package needs only
two things from it, named here as protocols so any store with the same shape
plugs in:

- :class:`SegmentSink` (``add_segment``): the writer hands every finished
  utterance to it;
- :class:`SegmentSource` (``segments`` / ``last_run_id``): the export reads a run.

:class:`SegmentRecord` is what a stored segment looks like (read-only fields;
datetimes are aware UTC). :class:`TranscriptSegment` is our own record with
exactly those fields. :class:`SegmentOutlet` pairs a sink with the constructor
of the sink's own record type (``SegmentOutlet(store, StoredSegment)``), so the
writer builds whatever record the store declares and type checking still holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

S = TypeVar("S")
S_contra = TypeVar("S_contra", contravariant=True)


class SegmentRecord(Protocol):
    """One stored utterance (structurally what the store returns)."""

    @property
    def guild_id(self) -> int: ...
    @property
    def voice_channel_id(self) -> int: ...
    @property
    def run_id(self) -> str: ...
    @property
    def member_id(self) -> int | None: ...
    @property
    def source_language(self) -> str: ...
    @property
    def target_language(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def ended_at(self) -> datetime: ...
    @property
    def original(self) -> str: ...
    @property
    def translation(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class TranscriptSegment:
    """A finished utterance, ready to store (same fields as the store's record)."""

    guild_id: int
    voice_channel_id: int
    run_id: str
    member_id: int | None
    source_language: str
    target_language: str
    started_at: datetime
    ended_at: datetime
    original: str
    translation: str | None


class SegmentSink(Protocol[S_contra]):
    async def add_segment(self, seg: S_contra) -> None: ...


class SegmentSource(Protocol):
    async def segments(self, guild_id: int, run_id: str) -> Sequence[SegmentRecord]: ...
    async def last_run_id(self, guild_id: int) -> str | None: ...


class MemberSegmentEraser(Protocol):
    async def forget_member(self, guild_id: int, member_id: int) -> int: ...


class SegmentOutlet(Generic[S]):
    """A sink and the record type it takes: ``await outlet.add(segment)``."""

    def __init__(self, sink: SegmentSink[S], make: Callable[..., S]) -> None:
        self._sink = sink
        self._make = make

    async def add(self, segment: TranscriptSegment) -> None:
        fields = {f.name: getattr(segment, f.name) for f in dataclasses.fields(segment)}
        await self._sink.add_segment(self._make(**fields))
