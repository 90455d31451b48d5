"""Sample-aligned mixing with clipping, and ducking of overlapping sources."""

from __future__ import annotations

import numpy as np
import pytest

from bot.audio.mix import Ducker, mix
from tests.support.signals import rms, tone


def _stereo(freq: float, amplitude: float = 0.3, phase: int = 0) -> np.ndarray:
    return np.repeat(tone(freq, 0.02, amplitude=amplitude, phase_samples=phase), 2)


def test_mix_adds_frames_sample_by_sample() -> None:
    a = np.array([1, 2, 3], dtype=np.int16)
    b = np.array([10, -20, 30], dtype=np.int16)
    assert mix([a, b]).tolist() == [11, -18, 33]


def test_mix_clips_instead_of_wrapping() -> None:
    loud = np.array([30000, -30000], dtype=np.int16)
    assert mix([loud, loud, loud]).tolist() == [32767, -32768]


def test_mix_refuses_frames_that_are_not_aligned() -> None:
    with pytest.raises(ValueError, match="aligned"):
        mix([np.zeros(4, np.int16), np.zeros(6, np.int16)])


def test_a_lone_source_passes_the_ducker_unchanged() -> None:
    ducker: Ducker[str] = Ducker(duck_db=-12)
    frame = _stereo(440)
    assert np.array_equal(ducker.mix({"a": frame}), frame)


def test_ducking_lowers_the_second_source_by_the_configured_amount() -> None:
    ducker: Ducker[str] = Ducker(duck_db=-12, ramp_ms=10)
    ducker.mix({"a": _stereo(440)})  # "a" is speaking first
    for i in range(1, 10):  # past the ramp
        ducker.mix({"a": _stereo(440, phase=960 * i), "b": _stereo(1000, phase=960 * i)})
    b_alone = _stereo(1000, phase=960 * 10)
    out = ducker.mix({"a": np.zeros_like(b_alone), "b": b_alone})
    # "a" went silent but its hangover keeps it active, so "b" is still ducked.
    assert 20 * np.log10(rms(out) / rms(b_alone)) == pytest.approx(-12, abs=0.2)
    assert ducker.gain_of("a") == 1.0


def test_ducking_ramps_the_gain_over_ramp_ms_instead_of_jumping() -> None:
    ducker: Ducker[str] = Ducker(duck_db=-12, ramp_ms=20)
    ducker.mix({"a": _stereo(440)})  # "a" speaks first; its hangover keeps it active
    steady = np.full(1920, 10000, np.int16)  # 20 ms of DC: the ramp shows as-is
    left = ducker.mix({"a": np.zeros(1920, np.int16), "b": steady})[0::2].astype(int)
    assert left[0] > 9950
    assert (np.diff(left) <= 0).all()
    assert left[-1] == pytest.approx(10000 * ducker.duck_gain, abs=2)


def test_a_ducked_source_returns_to_full_level_once_alone() -> None:
    ducker: Ducker[str] = Ducker(duck_db=-12, ramp_ms=10, hangover_ms=40)
    ducker.mix({"a": _stereo(440)})
    for i in range(1, 5):
        ducker.mix({"a": _stereo(440, phase=960 * i), "b": _stereo(1000, phase=960 * i)})
    for i in range(5, 12):  # "a" leaves: its hangover ends, then "b" ramps back up
        ducker.mix({"b": _stereo(1000, phase=960 * i)})
    assert ducker.gain_of("b") == 1.0


def test_keep_latest_ducks_the_earlier_source() -> None:
    ducker: Ducker[str] = Ducker(duck_db=-12, ramp_ms=10, keep="latest")
    ducker.mix({"a": _stereo(440)})
    for i in range(1, 5):
        ducker.mix({"a": _stereo(440, phase=960 * i), "b": _stereo(1000, phase=960 * i)})
    assert ducker.gain_of("a") == pytest.approx(ducker.duck_gain)
    assert ducker.gain_of("b") == 1.0
