"""Regroup sample blocks of arbitrary size into frames of one fixed size.

Resamplers (soxr's streaming mode in particular) hand back irregular blocks — 0, 489,
490 samples for 20 ms in — but ``rtc.AudioSource.capture_frame`` wants frames of a
constant duration. ``FrameChunker`` keeps the remainder between calls, so the frames
it emits are contiguous: concatenating them gives back exactly the input stream.
Its backlog never exceeds one frame, so it needs no drop policy.
"""

from __future__ import annotations

import numpy as np

from bot.audio.frames import Int16Array


class FrameChunker:
    """Cut a stream of interleaved ``int16`` samples into frames of ``frame_len``.

    ``frame_len`` counts interleaved samples (per-channel samples × channels).
    Not thread-safe: one owner feeds it.
    """

    def __init__(self, frame_len: int) -> None:
        if frame_len <= 0:
            raise ValueError(f"frame_len must be positive, got {frame_len}")
        self._frame_len = frame_len
        self._pending: Int16Array = np.empty(0, dtype=np.int16)

    @property
    def frame_len(self) -> int:
        return self._frame_len

    @property
    def pending(self) -> int:
        """Samples held back until the next frame is complete (< ``frame_len``)."""
        return int(self._pending.size)

    def push(self, samples: Int16Array) -> list[Int16Array]:
        """Append ``samples``; return every frame now complete, oldest first."""
        if samples.size == 0:
            return []
        # Always a fresh array: frames handed out never alias the caller's buffer.
        buf = np.concatenate((self._pending, samples))
        whole = buf.size - buf.size % self._frame_len
        frames = list(buf[:whole].reshape(-1, self._frame_len)) if whole else []
        self._pending = buf[whole:].copy()
        return frames

    def flush(self, *, pad: bool = True) -> list[Int16Array]:
        """Emit what is pending: one frame zero-padded to full size (``pad``), or the
        bare remainder; nothing if nothing is pending. The chunker is then empty."""
        if not self._pending.size:
            return []
        tail = self._pending
        self._pending = np.empty(0, dtype=np.int16)
        if pad:
            tail = np.concatenate((tail, np.zeros(self._frame_len - tail.size, np.int16)))
        return [tail]

    def clear(self) -> None:
        """Forget anything pending."""
        self._pending = np.empty(0, dtype=np.int16)
