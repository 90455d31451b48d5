"""The store worker of a run: finished utterances → the segment store, off the post path.

A slow or failing database must never hold up the thread, and a run needs no
database to interpret: segments wait in memory for one task per run that hands
them, oldest first, to the :class:`~bot.transcripts.records.SegmentSink` (the
store), each call bounded by ``timeout_s``.

- The database is unavailable (:class:`~bot.store.errors.StoreUnavailable`, or no
  answer within ``timeout_s``): the segment stays first in line and is tried again
  after a backoff (``retry_base_s`` doubling to ``retry_max_s``), then the ones
  behind it, in order, so a run that outlives an outage has every segment stored,
  once each (the store ignores a segment it already has: the answer of a write can
  be lost after it committed). The outage is logged when it starts and when it ends.
- The backlog is bounded for the whole process (:class:`StoreBacklog`, every run's
  waiting segments together): beyond it new segments are dropped and counted.
- The database refuses a segment (a bug or bad data, which retrying cannot fix): it
  is counted as not stored and the next one goes.

Closing a run does not wait for an outage to end: :meth:`SegmentStorer.settle` waits
(bounded) only while the store takes segments; what is still waiting is written in
the background when the database is back, until the process shuts down
(:meth:`SegmentStorer.aclose`, where what is left is counted as not stored).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from dataclasses import dataclass

from bot.store.errors import StoreUnavailable
from bot.store.segments import StoredSegment
from bot.transcripts.records import SegmentSink

log = logging.getLogger(__name__)

DEFAULT_BACKLOG = 10_000
"""Segments that may wait for the database, every run of the process together."""


@dataclass(slots=True)
class StoreCounters:
    stored: int = 0
    dropped: int = 0
    """Not kept: the backlog was full (the database was away that long)."""
    refused: int = 0
    """Not stored: the database refused the segment."""
    abandoned: int = 0
    """Still waiting for the database when the process shut down."""
    retries: int = 0

    @property
    def not_stored(self) -> int:
        return self.dropped + self.refused + self.abandoned


class StoreBacklog:
    """How many segments wait for the store in this process (bounded by ``limit``),
    and the process's totals of what became of them (for the metrics)."""

    def __init__(self, limit: int = DEFAULT_BACKLOG) -> None:
        self.limit = limit
        self.waiting = 0
        self.totals = StoreCounters()

    def reserve(self) -> bool:
        if self.waiting >= self.limit:
            return False
        self.waiting += 1
        return True

    def release(self, count: int = 1) -> None:
        self.waiting -= count


class SegmentStorer:
    def __init__(self, sink: SegmentSink, *, name: str, backlog: StoreBacklog | None = None,
                 timeout_s: float = 15.0, retry_base_s: float = 0.5,
                 retry_max_s: float = 5.0) -> None:
        self._sink = sink
        self._name = name
        self._backlog = backlog or StoreBacklog()
        self._timeout_s = timeout_s
        self._retry_base_s = retry_base_s
        self._retry_max_s = retry_max_s
        self._waiting: collections.deque[StoredSegment] = collections.deque()
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()  # a segment went, or the outage began or ended
        self._input_closed = False
        self._task: asyncio.Task[None] | None = None
        self.counters = StoreCounters()
        self.outage: str | None = None
        """Why the store is unavailable, while it is (``None``: it takes segments)."""
        self._dropping = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"{self._name}:store")

    @property
    def waiting(self) -> int:
        """Segments of this run not stored yet."""
        return len(self._waiting)

    @property
    def done(self) -> bool:
        """Closed and nothing left to store (or the worker stopped)."""
        return self._task is None or self._task.done()

    def put(self, segment: StoredSegment) -> None:
        if self._input_closed:
            raise RuntimeError("segments after settle()")
        if not self._backlog.reserve():
            self._count("dropped")
            if not self._dropping:
                self._dropping = True
                log.warning("%s: %d segments wait for the database already; dropping new "
                            "ones until it is back", self._name, self._backlog.waiting)
            return
        self._dropping = False  # room again: a next time it fills is said again
        self._waiting.append(segment)
        self._wake.set()

    async def settle(self, timeout_s: float) -> None:
        """No more segments come: wait (up to ``timeout_s``) while the store takes the
        waiting ones. Returns early during an outage: they are stored when it ends."""
        self._input_closed = True
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while self._waiting and self.outage is None and not self.done:
                    self._changed.clear()
                    await self._changed.wait()

    async def aclose(self, timeout_s: float) -> None:
        """Stop: store what is waiting while the store takes it (within ``timeout_s``; at
        once during an outage), then count what is left as not stored. Idempotent."""
        await self.settle(timeout_s)
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        left = len(self._waiting)
        if left:
            self._waiting.clear()
            self._backlog.release(left)
            self._count("abandoned", left)
            log.warning("%s: %d transcript segments not stored: the database was "
                        "unavailable (%s) when the bot stopped", self._name, left,
                        self.outage or f"still storing after {timeout_s:g} s")

    async def _run(self) -> None:
        delay = self._retry_base_s
        while True:
            if not self._waiting:
                if self._input_closed:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            segment = self._waiting[0]
            try:
                async with asyncio.timeout(self._timeout_s):
                    await self._sink.add_segment(segment)
            except (StoreUnavailable, TimeoutError) as exc:
                self._unavailable(str(exc) or f"no answer within {self._timeout_s:g} s")
                self._count("retries")
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max_s)
                continue
            except Exception as exc:
                self._count("refused")
                # With its traceback once per run (a bug shows where); the statement's
                # values are never in it (the store hides them).
                log.warning("%s: the database refused a transcript segment (%s); it is not "
                            "stored", self._name, type(exc).__name__,
                            exc_info=self.counters.refused == 1)
            else:
                self._count("stored")
            self._waiting.popleft()
            self._backlog.release()
            delay = self._retry_base_s
            if self.outage is not None:
                self._available()
            self._changed.set()

    def _unavailable(self, why: str) -> None:
        if self.outage is None:
            self.outage = why
            log.warning("%s: the database is unavailable (%s); transcript segments wait "
                        "(%d now) and are stored when it is back", self._name, why,
                        len(self._waiting))
            self._changed.set()

    def _available(self) -> None:
        log.info("%s: the database is back; storing the %d waiting segments", self._name,
                 len(self._waiting))
        self.outage = None

    def _count(self, name: str, n: int = 1) -> None:
        for counters in (self.counters, self._backlog.totals):
            setattr(counters, name, getattr(counters, name) + n)
