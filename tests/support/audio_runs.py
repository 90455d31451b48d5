"""Splitting recorded audio into audible runs and naming each run's tone."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tests.support.signals import dominant_frequency


def stereo_frame(mono: npt.NDArray[np.int16]) -> bytes:
    """Mono int16 → interleaved stereo s16le bytes (both channels equal)."""
    return np.repeat(mono, 2).astype(np.int16).tobytes()


def audible_runs(
    mono: npt.NDArray[np.int16],
    sample_rate: int = 48_000,
    *,
    window_ms: int = 20,
    threshold_rms: float = 500.0,
    min_gap_ms: int = 200,
    min_run_ms: int = 100,
) -> list[npt.NDArray[np.int16]]:
    """Stretches louder than ``threshold_rms``, split where quiet lasts ``min_gap_ms``."""
    win = sample_rate * window_ms // 1000
    n = mono.size // win
    if n == 0:
        return []
    frames = mono[: n * win].astype(np.float64).reshape(n, win)
    loud = np.sqrt((frames**2).mean(axis=1)) > threshold_rms
    runs: list[tuple[int, int]] = []
    start = None
    quiet = 0
    for i, is_loud in enumerate(loud):
        if is_loud:
            if start is None:
                start = i
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet * window_ms >= min_gap_ms:
                runs.append((start, i - quiet + 1))
                start, quiet = None, 0
    if start is not None:
        runs.append((start, n - quiet))
    return [mono[a * win: b * win] for a, b in runs if (b - a) * window_ms >= min_run_ms]


def run_frequencies(mono: npt.NDArray[np.int16], sample_rate: int = 48_000) -> list[float]:
    """Dominant frequency of each audible run, in order."""
    return [dominant_frequency(run, sample_rate) for run in audible_runs(mono, sample_rate)]
