"""SpeechFeed: a speaker's Discord frames to Pinch-ready speech frames, silence dropped."""

from __future__ import annotations

import numpy as np
import pytest

from bot.audio.frames import FRAME_BYTES
from bot.audio.speech import SpeechFeed
from tests.support.signals import dominant_frequency, tone

SILENT_FRAME = bytes(FRAME_BYTES)


def _speech(ms: int, *, freq: float = 1000, amplitude: float = 0.3) -> list[bytes]:
    stereo = np.repeat(tone(freq, ms / 1000, amplitude=amplitude), 2)
    return [stereo[i : i + 1920].tobytes() for i in range(0, stereo.size, 1920)]


def _feed(feed: SpeechFeed, frames: list[bytes]) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for frame in frames:
        out += feed.push(frame)
    return out


def test_silence_is_not_forwarded() -> None:
    feed = SpeechFeed()
    assert _feed(feed, [SILENT_FRAME] * 50) == []
    assert feed.forwarded_ms == 0
    assert feed.gated_ms == pytest.approx(1000)


def test_speech_comes_out_as_fixed_frames_at_the_output_rate() -> None:
    feed = SpeechFeed(out_rate=16_000, frame_ms=20, preroll_ms=0)
    out = _feed(feed, _speech(400))
    assert {f.size for f in out} == {320}
    assert dominant_frequency(np.concatenate(out), 16_000) == pytest.approx(1000, abs=10)
    assert feed.speaking


def test_the_tail_is_flushed_when_the_gate_closes_after_the_hangover() -> None:
    feed = SpeechFeed(hangover_ms=100, preroll_ms=0)
    during = _feed(feed, _speech(200) + [SILENT_FRAME] * 5)
    closing = feed.push(SILENT_FRAME)
    assert not feed.speaking
    # 200 ms speech + 100 ms hangover = 300 ms = 4800 samples at 16 kHz, all delivered.
    assert sum(f.size for f in during + closing) == 4800
    assert feed.forwarded_ms == pytest.approx(300)


def test_the_preroll_before_the_onset_is_forwarded_first() -> None:
    feed = SpeechFeed(preroll_ms=40, out_rate=48_000, frame_ms=20)
    soft = _speech(40, amplitude=0.003)  # below the gate's threshold
    _feed(feed, [SILENT_FRAME] * 3 + soft)
    out = feed.push(_speech(20)[0])
    assert len(out) == 3  # 40 ms of pre-roll + the 20 ms that opened the gate
    assert np.array_equal(
        np.concatenate(out[:2]),
        np.concatenate(
            [np.frombuffer(f, np.int16).reshape(-1, 2).mean(axis=1).astype(np.int16) for f in soft]
        ),
    )
    assert feed.forwarded_ms == pytest.approx(60)


def test_end_flushes_an_utterance_in_progress() -> None:
    feed = SpeechFeed(preroll_ms=0)
    pushed = _feed(feed, _speech(110))
    tail = feed.end()
    assert tail
    assert not feed.speaking
    assert sum(f.size for f in pushed + tail) == 1920  # 110 ms → 1760, padded to 6 frames
