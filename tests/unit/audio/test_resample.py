"""Streaming resampling into fixed frames (48 kHz mono → 16 kHz, or passthrough)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.audio.resample import StreamResampler
from tests.support.signals import dominant_frequency, rms, tone


def _feed(
    resampler: StreamResampler, samples: npt.NDArray[np.int16], sizes: list[int]
) -> list[npt.NDArray[np.int16]]:
    frames = []
    offset = 0
    i = 0
    while offset < samples.size:
        size = sizes[i % len(sizes)]
        frames += resampler.push(samples[offset : offset + size])
        offset += size
        i += 1
    return frames


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=8))
def test_frames_are_exactly_sized_whatever_the_input_blocks(sizes: list[int]) -> None:
    frames = _feed(StreamResampler(48_000, 16_000, frame_ms=20), tone(440, 0.3), sizes)
    assert frames
    assert {f.size for f in frames} == {320}


def test_output_is_continuous_across_irregular_input_blocks() -> None:
    signal = tone(1000, 0.5)
    regular = _feed(StreamResampler(48_000, 16_000), signal, [960])
    irregular = _feed(StreamResampler(48_000, 16_000), signal, [7, 1000, 333, 1, 2000])
    a = np.concatenate(regular).astype(np.int32)
    b = np.concatenate(irregular).astype(np.int32)
    n = min(a.size, b.size)
    # A lost, repeated or reordered block would differ by thousands; rounding by a few.
    assert n >= 7000
    assert np.abs(a[:n] - b[:n]).max() <= 4


def test_resampling_keeps_a_tones_frequency() -> None:
    resampler = StreamResampler(48_000, 16_000)
    out = np.concatenate(resampler.push(tone(1000, 0.5)) + resampler.flush())
    assert dominant_frequency(out, 16_000) == pytest.approx(1000, abs=4)


def test_content_above_the_new_nyquist_is_filtered_out_not_folded_back() -> None:
    signal = tone(10_000, 0.5, amplitude=0.9)  # would alias to 6 kHz without a filter
    resampler = StreamResampler(48_000, 16_000)
    out = np.concatenate(resampler.push(signal) + resampler.flush())
    steady = out[800:-800]
    assert 20 * np.log10(max(rms(steady), 1e-9) / rms(signal)) < -60


def test_flush_emits_the_tail_padded_to_a_whole_frame() -> None:
    resampler = StreamResampler(48_000, 16_000, frame_ms=20)
    pushed = resampler.push(tone(1000, 0.5))
    tail = resampler.flush()
    assert tail
    assert {f.size for f in tail} == {320}
    # 0.5 s in gives 8000 samples out: all of it comes out, rounded up to whole frames.
    assert sum(f.size for f in pushed + tail) == 8000


def test_a_push_after_flush_starts_a_fresh_stream() -> None:
    resampler = StreamResampler(48_000, 16_000)
    first = np.concatenate(resampler.push(tone(1000, 0.2)) + resampler.flush())
    second = np.concatenate(resampler.push(tone(1000, 0.2)) + resampler.flush())
    assert np.array_equal(first, second)


def test_reset_discards_buffered_audio() -> None:
    resampler = StreamResampler(48_000, 16_000)
    resampler.push(tone(1000, 0.05))
    resampler.reset()
    assert resampler.flush() == []


def test_equal_rates_only_rechunk_the_samples() -> None:
    resampler = StreamResampler(48_000, 48_000, frame_ms=10)
    signal = tone(1000, 0.1)
    frames = _feed(resampler, signal, [333])
    assert resampler.passthrough
    assert {f.size for f in frames} == {480}
    assert np.array_equal(np.concatenate(frames), signal[: 480 * len(frames)])


def test_stereo_frames_count_both_channels() -> None:
    resampler = StreamResampler(48_000, 16_000, channels=2, frame_ms=20)
    stereo = np.repeat(tone(1000, 0.2), 2)
    frames = resampler.push(stereo) + resampler.flush()
    assert {f.size for f in frames} == {640}
    left = np.concatenate(frames)[0::2]
    assert dominant_frequency(left, 16_000) == pytest.approx(1000, abs=10)


def test_a_frame_that_is_not_a_whole_number_of_samples_is_refused() -> None:
    with pytest.raises(ValueError, match="whole number"):
        StreamResampler(48_000, 44_100, frame_ms=10.5)
