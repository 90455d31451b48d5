"""An in-memory segment store with the store's segment API (add, read a run, forget).

The real store (``bot/store/``, SQLite/PostgreSQL) is built elsewhere; until it is
merged, transcript tests store into this, which keeps segments exactly as given.
"""

from __future__ import annotations

from bot.transcripts.records import TranscriptSegment


class MemorySegments:
    def __init__(self) -> None:
        self.rows: list[TranscriptSegment] = []

    async def add_segment(self, seg: TranscriptSegment) -> None:
        self.rows.append(seg)

    async def segments(self, guild_id: int, run_id: str) -> list[TranscriptSegment]:
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
