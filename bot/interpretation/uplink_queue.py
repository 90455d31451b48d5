"""The microphone timeline of one link: speech frames and the pauses between them.

Pinch's segmenter ends a segment after ~500 ms of pause *in the audio*, so a pause
is as much a part of what a link sends as the speech around it. While the link is
live the queue is empty and a pause is sent as padding at real-time pace: the
member's next word cancels what is left of it, so the pause sent is the pause
spoken. While no room is up (a session opening, a reconnect) speech waits here, and
a pause that ended while waiting is written into the queue as silence of its real
length (capped at the requested padding), so a backlog drained later keeps its
utterances apart and never merges them into one segment.

Pure: the time is a parameter; the link's sender task is the only reader.
Bounded: beyond ``capacity`` frames the oldest is dropped and counted.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass


@dataclass(slots=True)
class _Pause:
    started_at: float
    frames: int
    sent: int = 0


@dataclass(slots=True)
class UplinkQueueStats:
    dropped_frames: int = 0
    """Frames lost because the queue was full (oldest first)."""
    padding_sent: int = 0
    """Silent frames sent at the end of an utterance while nothing else waited."""
    padding_queued: int = 0
    """Silent frames written into a backlog to keep a pause of its real length."""
    padding_cancelled: int = 0
    """Padding never sent because the member spoke again first."""


class UplinkQueue:
    """Frames waiting for the room.

    In: ``push_speech`` and ``end_of_speech``; out: ``pop`` and ``take_padding``.
    """

    def __init__(self, frame_s: float, capacity: int, silence: bytes) -> None:
        if frame_s <= 0 or capacity < 1:
            raise ValueError("frame_s must be positive and capacity at least 1")
        self.stats = UplinkQueueStats()
        self._frame_s = frame_s
        self._silence = silence
        self._frames: collections.deque[tuple[float, bytes]] = collections.deque(maxlen=capacity)
        self._pause: _Pause | None = None

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def idle(self) -> bool:
        """Nothing waits to be sent, not even a pause."""
        return not self._frames and self._pause is None

    def push_speech(self, chunks: list[bytes], now: float) -> None:
        """Frames of speech pushed at ``now``; first closes a pending pause at its real length."""
        pause = self._pause
        if pause is not None:
            self._pause = None
            elapsed = int((now - pause.started_at) / self._frame_s + 1e-9)
            missing = min(pause.frames, elapsed) - pause.sent
            for _ in range(max(0, missing)):
                self._append(now, self._silence)
            self.stats.padding_queued += max(0, missing)
            self.stats.padding_cancelled += pause.frames - pause.sent - max(0, missing)
        for chunk in chunks:
            self._append(now, chunk)

    def end_of_speech(self, tail: list[bytes], pad_frames: int, now: float) -> None:
        """The utterance ended at ``now``: queue its ``tail``, then a pause of ``pad_frames``."""
        for chunk in tail:
            self._append(now, chunk)
        if self._pause is not None:  # two ends in a row: the first pause is moot
            self.stats.padding_cancelled += self._pause.frames - self._pause.sent
        self._pause = _Pause(now, pad_frames) if pad_frames > 0 else None

    def pop(self) -> tuple[float, bytes] | None:
        """The oldest waiting frame with the time it was pushed, or ``None``."""
        return self._frames.popleft() if self._frames else None

    def take_padding(self) -> bool:
        """Whether to send one frame of padding now (only when no frame waits)."""
        pause = self._pause
        if pause is None or self._frames:
            return False
        pause.sent += 1
        self.stats.padding_sent += 1
        if pause.sent >= pause.frames:
            self._pause = None
        return True

    def _append(self, at: float, chunk: bytes) -> None:
        if len(self._frames) == self._frames.maxlen:
            self.stats.dropped_frames += 1  # the deque drops the oldest on append
        self._frames.append((at, chunk))
