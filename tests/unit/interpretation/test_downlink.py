"""Pinch's WebSocket audio (float32 24 kHz mono) becomes the mixer's 20 ms 48 kHz stereo frames."""

from __future__ import annotations

import numpy as np
import pytest

from bot.audio.frames import FRAME_BYTES
from bot.interpretation.downlink import DownlinkConverter, PlayoutHorizon
from tests.support.signals import dominant_frequency


def _float_tone(freq: float, seconds: float, rate: int = 24_000, amp: float = 0.5) -> bytes:
    t = np.arange(round(seconds * rate)) / rate
    return (np.sin(2 * np.pi * freq * t) * amp).astype("<f4").tobytes()


def _mono(frames: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(frames), dtype=np.int16)[::2]


def test_a_tone_comes_out_at_48_khz_stereo_in_whole_frames_at_its_own_pitch() -> None:
    converter = DownlinkConverter()
    frames = converter.push(_float_tone(1500.0, 0.5)) + converter.flush()
    assert all(len(f) == FRAME_BYTES for f in frames)
    assert len(frames) in (25, 26)
    stereo = np.frombuffer(b"".join(frames), dtype=np.int16).reshape(-1, 2)
    assert np.array_equal(stereo[:, 0], stereo[:, 1])
    assert dominant_frequency(_mono(frames), 48_000) == pytest.approx(1500, abs=10)
    assert np.abs(_mono(frames)).max() == pytest.approx(0.5 * 32767, rel=0.05)


def test_frames_cut_mid_sample_are_joined() -> None:
    data = _float_tone(1000.0, 0.2)
    whole = DownlinkConverter()
    expected = whole.push(data) + whole.flush()
    split = DownlinkConverter()
    got: list[bytes] = []
    for i in range(0, len(data), 1001):  # 1001 bytes: never a whole number of floats
        got += split.push(data[i:i + 1001])
    got += split.flush()
    assert got == expected


def test_non_numbers_are_silence_and_overshoot_saturates() -> None:
    converter = DownlinkConverter()
    samples = np.full(4800, 3.0, dtype="<f4")
    samples[:2400] = np.nan
    frames = converter.push(samples.tobytes()) + converter.flush()
    mono = _mono(frames)
    assert mono.max() <= 32767
    assert np.abs(mono[:4000]).max() == 0  # the NaN stretch (first 100 ms)
    assert mono[6000:9000].min() > 30000  # the clipped stretch, at full scale


def test_flush_says_whether_anything_was_pending() -> None:
    converter = DownlinkConverter()
    assert not converter.pending
    converter.push(_float_tone(1000.0, 0.01))
    assert converter.pending
    assert converter.flush()
    assert not converter.pending


def test_the_flush_waits_for_the_lead_a_server_built_minus_the_margin() -> None:
    horizon = PlayoutHorizon(margin_s=0.04, least_s=0.04)
    for _ in range(5):  # five 20 ms chunks at once: 100 ms of lead
        wait = horizon.received(0.02, now=10.0)
    assert wait == pytest.approx(0.1 - 0.04)


def test_a_server_that_fell_behind_restarts_the_horizon_from_the_arrival() -> None:
    horizon = PlayoutHorizon(margin_s=0.04, least_s=0.0)
    horizon.received(0.1, now=10.0)  # would have played out at 10.1
    assert horizon.received(0.1, now=11.0) == pytest.approx(0.1 - 0.04)


def test_chunks_at_real_time_without_lead_still_wait_the_least() -> None:
    horizon = PlayoutHorizon(margin_s=0.04, least_s=0.04)
    waits = [horizon.received(0.02, now=10.0 + 0.02 * i) for i in range(10)]
    assert waits == [pytest.approx(0.04)] * 10
