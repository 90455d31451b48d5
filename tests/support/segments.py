"""An in-memory segment store with the store's segment API (add, read a run, forget).

Transcript tests that are about the thread store into this, which keeps segments
exactly as given; the real store (``bot/store/``) has its own tests.
"""

from __future__ import annotations

from bot.store import StoredSegment


class MemorySegments:
    def __init__(self) -> None:
        self.rows: list[StoredSegment] = []

    async def add_segment(self, seg: StoredSegment) -> None:
        self.rows.append(seg)

    async def segments(self, guild_id: int, run_id: str) -> list[StoredSegment]:
        return sorted((s for s in self.rows if s.guild_id == guild_id and s.run_id == run_id),
                      key=lambda s: s.started_at)

    async def last_run_id(self, guild_id: int) -> str | None:
        mine = [s for s in self.rows if s.guild_id == guild_id]
        return max(mine, key=lambda s: s.ended_at).run_id if mine else None

    async def forget_member(self, guild_id: int, member_id: int) -> int:
        before = len(self.rows)
        self.rows = [s for s in self.rows
                     if not (s.guild_id == guild_id and s.member_id == member_id)]
        return before - len(self.rows)
