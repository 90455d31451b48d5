"""The store worker of a run: finished utterances → the segment store, off the post path.

A slow or failing database must never hold up the thread, so segments wait in a
bounded queue (``capacity`` segments) for one task that hands them to the
:class:`~bot.transcripts.records.SegmentSink` (the store), each call bounded by
``timeout_s``. Drop policy: when the queue is full (the store is that far behind)
new segments are dropped and counted; a failed write is logged once and counted.
``aclose`` lets the worker catch up (bounded), then stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from bot.store.segments import StoredSegment
from bot.transcripts.records import SegmentSink

log = logging.getLogger(__name__)


@dataclass(slots=True)
class StoreCounters:
    stored: int = 0
    dropped: int = 0
    failed: int = 0


class SegmentStorer:
    def __init__(self, sink: SegmentSink, *, name: str, capacity: int = 1000,
                 timeout_s: float = 10.0) -> None:
        self._sink = sink
        self._name = name
        self._timeout_s = timeout_s
        self._queue: asyncio.Queue[StoredSegment | None] = asyncio.Queue(capacity)
        self._task: asyncio.Task[None] | None = None
        self.counters = StoreCounters()
        self._warned: set[str] = set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"{self._name}:store")

    def put(self, segment: StoredSegment) -> None:
        try:
            self._queue.put_nowait(segment)
        except asyncio.QueueFull:
            self.counters.dropped += 1
            self._warn_once("full", "segment store is behind; dropping segments")

    async def aclose(self, timeout_s: float) -> None:
        """Store what is queued (within ``timeout_s``), then stop. Idempotent."""
        task = self._task
        if task is None:
            return
        try:
            async with asyncio.timeout(timeout_s):
                await self._queue.put(None)
                await asyncio.shield(task)
        except TimeoutError:
            log.warning("%s: %d segments not stored", self._name, self._queue.qsize())
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self) -> None:
        while True:
            segment = await self._queue.get()
            if segment is None:
                return
            try:
                async with asyncio.timeout(self._timeout_s):
                    await self._sink.add_segment(segment)
                self.counters.stored += 1
            except Exception:
                self.counters.failed += 1
                self._warn_once("failed", "storing a transcript segment failed",
                                exc_info=True)

    def _warn_once(self, key: str, message: str, *, exc_info: bool = False) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning("%s: %s", self._name, message, exc_info=exc_info)
