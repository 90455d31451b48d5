"""A bounded window of latency samples with percentiles, cheap enough for every frame."""

from __future__ import annotations

import collections

import numpy as np


class LatencyWindow:
    """The last ``size`` samples (seconds); percentiles in milliseconds."""

    def __init__(self, size: int = 2000) -> None:
        self._samples: collections.deque[float] = collections.deque(maxlen=size)

    def add(self, seconds: float) -> None:
        self._samples.append(seconds)

    def __len__(self) -> int:
        return len(self._samples)

    def percentile_ms(self, p: float) -> float | None:
        """The ``p``-th percentile in ms, or None before the first sample."""
        if not self._samples:
            return None
        return float(np.percentile(np.fromiter(self._samples, dtype=np.float64), p) * 1000)
