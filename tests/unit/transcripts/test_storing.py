"""The store worker never holds up posting: bounded queue, drops counted, failures counted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.store import StoredSegment
from bot.transcripts.storing import SegmentStorer
from tests.support.segments import MemorySegments

AT = datetime(2025, 6, 1, tzinfo=UTC)


def segment(n: int) -> StoredSegment:
    return StoredSegment(1, 2, "run", 3, "en-US", "es-ES", AT, AT, f"s{n}", None)


class StuckStore(MemorySegments):
    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def add_segment(self, seg: StoredSegment) -> None:
        await self.release.wait()
        await super().add_segment(seg)


class BrokenStore(MemorySegments):
    async def add_segment(self, seg: StoredSegment) -> None:
        raise ConnectionError("database down")


async def test_segments_are_stored_in_order_and_the_close_waits_for_them() -> None:
    store = MemorySegments()
    storer = SegmentStorer(store, name="t")
    storer.start()
    for n in range(5):
        storer.put(segment(n))
    await storer.aclose(5.0)
    assert [s.original for s in store.rows] == [f"s{n}" for n in range(5)]
    assert storer.counters.stored == 5


async def test_a_store_that_far_behind_drops_new_segments_and_counts_them() -> None:
    store = StuckStore()
    storer = SegmentStorer(store, name="t", capacity=2)
    storer.start()
    storer.put(segment(0))
    await asyncio.sleep(0)  # the worker takes it and waits on the store
    for n in range(1, 5):
        storer.put(segment(n))
    assert storer.counters.dropped == 2
    store.release.set()
    await storer.aclose(5.0)
    assert [s.original for s in store.rows] == ["s0", "s1", "s2"]


async def test_failed_writes_are_counted_and_do_not_stop_the_worker() -> None:
    storer = SegmentStorer(BrokenStore(), name="t")
    storer.start()
    storer.put(segment(0))
    storer.put(segment(1))
    await storer.aclose(5.0)
    assert storer.counters.failed == 2


async def test_close_is_bounded_when_the_store_hangs() -> None:
    storer = SegmentStorer(StuckStore(), name="t",
                           timeout_s=60.0)
    storer.start()
    storer.put(segment(0))
    await storer.aclose(0.2)
    assert storer.counters.stored == 0
