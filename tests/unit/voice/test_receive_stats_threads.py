"""Receive counters written from three threads lose nothing, and snapshots never raise."""

from __future__ import annotations

import sys
import threading

from bot.voice.events import ReceiveStats
from bot.voice.rtp import DropReason


def test_drops_counted_from_three_threads_at_once_are_all_kept() -> None:
    stats = ReceiveStats()
    reasons = list(DropReason)
    per_thread = 20_000
    errors: list[BaseException] = []
    stop = threading.Event()

    def count(offset: int) -> None:
        for i in range(per_thread):
            stats.drop(reasons[(i + offset) % len(reasons)])

    def read() -> None:
        while not stop.is_set():
            try:
                stats.snapshot()
            except BaseException as exc:  # the point: nothing may escape
                errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        reader = threading.Thread(target=read)
        reader.start()
        writers = [threading.Thread(target=count, args=(k,)) for k in range(3)]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
        stop.set()
        reader.join()
    finally:
        sys.setswitchinterval(old)
    assert errors == []
    assert sum(stats.drops.values()) == 3 * per_thread
