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


FRAME_FLOOR_RMS = 100.0
"""Quieter frames (int16 RMS, about −50 dBFS) hold no tone: their peaks are noise."""


def frame_spectra(frames: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Per mono frame (a row), its Hann-windowed magnitude spectrum without the DC bin;
    all zeros for a frame quieter than :data:`FRAME_FLOOR_RMS`."""
    x = np.asarray(frames, dtype=np.float64)
    spectra = np.abs(np.fft.rfft(x * np.hanning(x.shape[1]), axis=1))
    spectra[:, 0] = 0.0
    loud = np.sqrt(np.mean(x * x, axis=1, keepdims=True)) >= FRAME_FLOOR_RMS
    out: npt.NDArray[np.float32] = np.where(loud, spectra, 0.0).astype(np.float32)
    return out


def tone_column(sample_rate: int, freq_hz: float, frame_samples: int = 960) -> int:
    """The bin of :func:`frame_spectra` (of ``frame_samples``-sample frames) nearest
    ``freq_hz``; a spectrum cut short above its tones keeps its columns."""
    column: int = round(freq_hz * frame_samples / sample_rate)
    return column


def dominant_frames(spectra: npt.NDArray[np.floating], sample_rate: int, freq_hz: float,
                    frame_samples: int = 960) -> npt.NDArray[np.bool_]:
    """Which frames' strongest bin is ``freq_hz``: the tone heard above everything else
    (a codec's smear or a cut tone's click may reach a neighbour's level, seldom its peak)."""
    column = tone_column(sample_rate, freq_hz, frame_samples)
    out: npt.NDArray[np.bool_] = (spectra.argmax(axis=1) == column) & (spectra.max(axis=1) > 0)
    return out


def present_frames(spectra: npt.NDArray[np.floating], sample_rate: int, freq_hz: float,
                   frame_samples: int = 960, within_db: float = 20.0) -> npt.NDArray[np.bool_]:
    """Which frames hold a tone at ``freq_hz`` within ``within_db`` of their strongest bin
    (so a voice ducked under another one counts too)."""
    column = tone_column(sample_rate, freq_hz, frame_samples)
    peaks = spectra.max(axis=1)
    out: npt.NDArray[np.bool_] = (peaks > 0) & (spectra[:, column]
                                                >= peaks * 10 ** (-within_db / 20))
    return out
