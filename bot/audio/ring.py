"""A bounded ring of ``int16`` samples that drops the oldest audio when full.

The storage behind each playback input's jitter buffer: writes of any size, reads of
exactly the size asked for (or what is there), both as at most two slice copies into
one preallocated array. When a write does not fit, the oldest samples make room —
for live interpretation late audio is worth less than current audio — and the write
reports how many were dropped so the owner can count them. Not thread-safe: the
owner serialises access.
"""

from __future__ import annotations

import numpy as np

from bot.audio.frames import Int16Array


class SampleRing:
    """Fixed-capacity FIFO of interleaved ``int16`` samples with drop-oldest overflow."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self._buf: Int16Array = np.zeros(capacity, dtype=np.int16)
        self._start = 0  # index of the oldest sample
        self._size = 0

    @property
    def capacity(self) -> int:
        return int(self._buf.size)

    def __len__(self) -> int:
        return self._size

    def write(self, samples: Int16Array) -> int:
        """Append ``samples``; return how many old samples were dropped to fit them."""
        n = int(samples.size)
        if n == 0:
            return 0
        cap = self._buf.size
        dropped = 0
        if n >= cap:
            # Only the newest ``cap`` samples survive; everything buffered goes too.
            dropped = self._size + n - cap
            self._buf[:] = samples[n - cap :]
            self._start, self._size = 0, cap
            return dropped
        overflow = self._size + n - cap
        if overflow > 0:
            self._start = (self._start + overflow) % cap
            self._size -= overflow
            dropped = overflow
        end = (self._start + self._size) % cap
        first = min(n, cap - end)
        self._buf[end : end + first] = samples[:first]
        if first < n:
            self._buf[: n - first] = samples[first:]
        self._size += n
        return dropped

    def read_into(self, out: Int16Array) -> int:
        """Move up to ``out.size`` of the oldest samples into ``out``; return the count.

        The rest of ``out`` is left untouched.
        """
        n = min(int(out.size), self._size)
        if n == 0:
            return 0
        cap = self._buf.size
        first = min(n, cap - self._start)
        out[:first] = self._buf[self._start : self._start + first]
        if first < n:
            out[first:n] = self._buf[: n - first]
        self._start = (self._start + n) % cap
        self._size -= n
        if self._size == 0:
            self._start = 0
        return n

    def discard(self, n: int) -> int:
        """Drop up to ``n`` of the oldest samples; return how many were dropped."""
        n = max(0, min(int(n), self._size))
        self._start = (self._start + n) % self._buf.size
        self._size -= n
        if self._size == 0:
            self._start = 0
        return n

    def clear(self) -> None:
        self._start = 0
        self._size = 0
