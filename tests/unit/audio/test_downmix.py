"""Stereo to mono and back."""

from __future__ import annotations

import numpy as np
import pytest

from bot.audio.downmix import stereo_to_mono


def test_downmix_averages_the_two_channels() -> None:
    interleaved = np.array([100, 300, -50, 50, 7, 9], dtype=np.int16)
    assert stereo_to_mono(interleaved).tolist() == [200, 0, 8]


def test_downmix_of_two_full_scale_channels_does_not_overflow() -> None:
    interleaved = np.array([32767, 32767, -32768, -32768], dtype=np.int16)
    assert stereo_to_mono(interleaved).tolist() == [32767, -32768]


def test_downmix_refuses_a_half_sample_pair() -> None:
    with pytest.raises(ValueError, match="even length"):
        stereo_to_mono(np.zeros(3, dtype=np.int16))
