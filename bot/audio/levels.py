"""Signal levels and the voice-activity gate that keeps empty air away from Pinch.

Pinch bills by the second of audio it receives, so a member's stream is forwarded
only while it carries sound: ``VoiceGate`` opens on the first frame louder than a
threshold and stays open for a hangover after the last loud frame (pauses between
words and the soft ends of sentences still go through), then closes. The same gate
trims the silence between translations on the playback side.

Levels are in dBFS relative to a full-scale square wave (a full-scale sine is about
-3 dBFS); digital silence reports ``MIN_DBFS`` rather than minus infinity.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from bot.audio.frames import Int16Array

MIN_DBFS: Final = -120.0
"""Floor reported for silence (and anything quieter)."""
_FULL_SCALE: Final = 32768.0


def rms(samples: Int16Array) -> float:
    """Root mean square of the samples, normalised to full scale (0.0 – 1.0)."""
    if samples.size == 0:
        return 0.0
    x = samples.astype(np.float64)  # int16 squares overflow int32 sums on long frames
    mean_square = float(np.dot(x, x)) / samples.size
    return math.sqrt(mean_square) / _FULL_SCALE


def dbfs(samples: Int16Array) -> float:
    """Level of the samples in dBFS, never below ``MIN_DBFS``."""
    level = rms(samples)
    if level <= 0.0:
        return MIN_DBFS
    return max(MIN_DBFS, 20.0 * math.log10(level))


class VoiceGate:
    """Energy gate with hangover, advanced one frame (of any length) at a time.

    ``update(frame)`` returns whether that frame should be forwarded: True from the
    first frame at or above ``threshold_dbfs`` until ``hangover_ms`` of audio has
    followed the last such frame. Duration is derived from the frame length, so
    frames of 10, 20 or 40 ms can be mixed freely. Not thread-safe.
    """

    def __init__(
        self,
        *,
        threshold_dbfs: float = -45.0,
        hangover_ms: float = 300.0,
        sample_rate: int = 48_000,
        channels: int = 1,
    ) -> None:
        if hangover_ms < 0:
            raise ValueError("hangover_ms must not be negative")
        self.threshold_dbfs = threshold_dbfs
        self.hangover_ms = hangover_ms
        self._ms_per_sample = 1000.0 / (sample_rate * channels)
        self._quiet_ms = math.inf  # audio since the last loud frame; inf = closed

    @property
    def is_open(self) -> bool:
        """Whether the last frame was forwarded."""
        return self._quiet_ms <= self.hangover_ms

    def update(self, frame: Int16Array) -> bool:
        """Advance the gate by ``frame``; return True if the frame is to be forwarded."""
        if dbfs(frame) >= self.threshold_dbfs:
            self._quiet_ms = 0.0
            return True
        if self._quiet_ms == math.inf:
            return False
        # The hangover counts from the end of the last loud frame: a quiet frame is
        # forwarded while it starts within the hangover window.
        forwarded = self._quiet_ms < self.hangover_ms
        self._quiet_ms += frame.size * self._ms_per_sample
        if not forwarded:
            self._quiet_ms = math.inf
        return forwarded

    def reset(self) -> None:
        """Close the gate."""
        self._quiet_ms = math.inf
