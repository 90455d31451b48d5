"""Stored transcript segments: one final utterance, its translation, who and when.

:class:`StoredSegment` is the one model of a segment: the transcript writer
builds it for every finished utterance and hands it to
:meth:`bot.store.Store.add_segment`; :meth:`~bot.store.Store.segments` gives it
back to the export. Times are aware UTC datetimes; ``seq`` numbers a run's segments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class StoredSegment:
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
    seq: int | None = None
    """Its number in its run (1, 2, ...: the order the writer finished it), unique in the run,
    so a write retried after a lost answer is not stored twice (``None``: not numbered,
    e.g. a segment written by hand)."""
    caption_language: str | None = None
    """Posted in the run's caption thread of this language (``target_language`` then
    is the same); ``None``: in the run's own thread."""

    def __post_init__(self) -> None:
        for name in ("started_at", "ended_at"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"StoredSegment.{name} must be an aware datetime")
        if self.ended_at < self.started_at:
            raise ValueError("StoredSegment ends before it starts")
