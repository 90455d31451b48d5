"""Discord frame geometry and the bytes ⇄ int16 conversions."""

from __future__ import annotations

import numpy as np
import pytest

from bot.audio.frames import (
    FRAME_BYTES,
    FRAME_SAMPLES,
    SILENCE_FRAME,
    duration_ms,
    pcm_to_samples,
    samples_per_channel,
    samples_to_pcm,
)


def test_a_discord_frame_is_20_ms_of_48k_stereo_s16le() -> None:
    assert FRAME_SAMPLES == 960
    assert FRAME_BYTES == 3840
    assert bytes(3840) == SILENCE_FRAME


def test_durations_convert_to_samples_and_back() -> None:
    assert samples_per_channel(20, 16_000) == 320
    assert duration_ms(1920, 48_000, channels=2) == 20.0


def test_pcm_is_read_as_little_endian_int16() -> None:
    assert pcm_to_samples(b"\x01\x00\xff\xff\x00\x80").tolist() == [1, -1, -32768]


def test_samples_round_trip_through_pcm() -> None:
    samples = np.array([0, 1, -1, 32767, -32768], dtype=np.int16)
    assert np.array_equal(pcm_to_samples(samples_to_pcm(samples)), samples)


def test_pcm_of_odd_length_is_refused() -> None:
    with pytest.raises(ValueError, match="multiple of 2"):
        pcm_to_samples(b"\x00\x00\x00")
