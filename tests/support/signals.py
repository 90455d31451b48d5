"""Test signals and their analysis: tones in, dominant frequency out (numpy)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def tone(
    freq_hz: float,
    duration_s: float,
    sample_rate: int = 48_000,
    amplitude: float = 0.5,
    phase_samples: int = 0,
) -> npt.NDArray[np.int16]:
    """A mono sine as int16 samples; ``phase_samples`` continues an earlier chunk."""
    n = round(duration_s * sample_rate)
    t = (np.arange(n) + phase_samples) / sample_rate
    return (np.sin(2 * np.pi * freq_hz * t) * amplitude * 32767).astype(np.int16)


def dominant_frequency(samples: npt.ArrayLike, sample_rate: int) -> float:
    """Frequency (Hz) of the strongest FFT bin of a mono signal, windowed."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError("need a mono signal of at least two samples")
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    spectrum[0] = 0.0
    return float(np.argmax(spectrum) * sample_rate / x.size)


def rms(samples: npt.ArrayLike) -> float:
    x = np.asarray(samples, dtype=np.float64)
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0


def tone_prominence_db(samples: npt.ArrayLike, sample_rate: int, freq_hz: float,
                       bandwidth_hz: float = 20.0) -> float:
    """How far (dB) the spectrum peak near ``freq_hz`` stands above the median bin.

    Works on mixtures: each tone of a chord stands out on its own, whatever the
    others do, so a ducked second voice is still found.
    """
    x = np.asarray(samples, dtype=np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    freqs = np.fft.rfftfreq(x.size, 1 / sample_rate)
    band = spectrum[np.abs(freqs - freq_hz) <= bandwidth_hz / 2]
    floor = float(np.median(spectrum)) + 1e-9
    return float(20 * np.log10((band.max() if band.size else 0.0) / floor + 1e-12))
