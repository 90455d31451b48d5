"""The store worker never holds up posting: segments wait (bounded) while the database is
unavailable and are stored once it is back, in order; what cannot be kept is counted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.store import StoredSegment
from bot.store.errors import StoreUnavailable
from bot.transcripts.storing import SegmentStorer, StoreBacklog
from tests.support.segments import MemorySegments
from tests.support.waiting import eventually

AT = datetime(2025, 6, 1, tzinfo=UTC)


def segment(n: int) -> StoredSegment:
    return StoredSegment(1, 2, "run", 3, "en-US", "es-ES", AT, AT, f"s{n}", None, seq=n + 1)


class StuckStore(MemorySegments):
    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def add_segment(self, seg: StoredSegment) -> None:
        await self.release.wait()
        await super().add_segment(seg)


class FlakyStore(MemorySegments):
    """Unavailable (as the store says it) while ``down``."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.tries = 0

    async def add_segment(self, seg: StoredSegment) -> None:
        self.tries += 1
        if self.down:
            raise StoreUnavailable("OSError: connection refused")
        await super().add_segment(seg)


class RefusingStore(MemorySegments):
    async def add_segment(self, seg: StoredSegment) -> None:
        if seg.original == "s0":
            raise ValueError("a value the database refuses")
        await super().add_segment(seg)


def storer(store: MemorySegments, *, backlog: StoreBacklog | None = None,
           timeout_s: float = 10.0) -> SegmentStorer:
    made = SegmentStorer(store, name="t", backlog=backlog, timeout_s=timeout_s,
                         retry_base_s=0.01, retry_max_s=0.05)
    made.start()
    return made


async def test_segments_are_stored_in_order_and_the_close_waits_for_them() -> None:
    store = MemorySegments()
    worker = storer(store)
    for n in range(5):
        worker.put(segment(n))
    await worker.aclose(5.0)
    assert [s.original for s in store.rows] == [f"s{n}" for n in range(5)]
    assert worker.counters.stored == 5


async def test_during_an_outage_segments_wait_and_are_stored_in_order_once_it_ends() -> None:
    store = FlakyStore()
    store.down = True
    worker = storer(store)
    for n in range(3):
        worker.put(segment(n))
    await eventually(lambda: store.tries >= 3)
    assert worker.outage == "OSError: connection refused"
    assert (worker.waiting, store.rows) == (3, [])
    store.down = False
    await eventually(lambda: worker.waiting == 0)
    assert [s.original for s in store.rows] == ["s0", "s1", "s2"]
    assert worker.outage is None
    assert worker.counters.not_stored == 0


async def test_beyond_the_process_backlog_new_segments_are_dropped_and_counted() -> None:
    store = FlakyStore()
    store.down = True
    backlog = StoreBacklog(limit=3)
    first, second = storer(store, backlog=backlog), storer(store, backlog=backlog)
    for n in range(2):
        first.put(segment(n))
    for n in range(2, 5):
        second.put(segment(n))
    assert (first.counters.dropped, second.counters.dropped) == (0, 2)
    assert (backlog.waiting, backlog.totals.dropped) == (3, 2)
    store.down = False
    await eventually(lambda: backlog.waiting == 0)
    assert sorted(s.original for s in store.rows) == ["s0", "s1", "s2"]


async def test_a_segment_the_database_refuses_is_counted_and_the_next_one_goes() -> None:
    store = RefusingStore()
    worker = storer(store)
    worker.put(segment(0))
    worker.put(segment(1))
    await worker.aclose(5.0)
    assert worker.counters.refused == 1
    assert [s.original for s in store.rows] == ["s1"]


async def test_settling_returns_at_once_during_an_outage_and_storing_goes_on() -> None:
    store = FlakyStore()
    store.down = True
    worker = storer(store)
    worker.put(segment(0))
    await eventually(lambda: worker.outage is not None)
    await asyncio.wait_for(worker.settle(60.0), 1.0)
    assert not worker.done
    store.down = False
    await eventually(lambda: worker.done)
    assert [s.original for s in store.rows] == ["s0"]


async def test_closing_during_an_outage_counts_what_waits_as_not_stored() -> None:
    store = FlakyStore()
    store.down = True
    backlog = StoreBacklog()
    worker = storer(store, backlog=backlog)
    worker.put(segment(0))
    worker.put(segment(1))
    await eventually(lambda: worker.outage is not None)
    await asyncio.wait_for(worker.aclose(60.0), 1.0)
    assert worker.counters.abandoned == 2
    assert (backlog.waiting, backlog.totals.abandoned) == (0, 2)


async def test_close_is_bounded_when_the_store_hangs() -> None:
    worker = storer(StuckStore(), timeout_s=60.0)
    worker.put(segment(0))
    await worker.aclose(0.2)
    assert worker.counters.stored == 0
    assert worker.counters.abandoned == 1
