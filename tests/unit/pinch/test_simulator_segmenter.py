"""The simulator's energy segmenter and tone code (pure parts of the fake Pinch agent)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fakes.pinch import segment_number_for, translation_frequency
from tests.fakes.pinch.config import AgentTuning
from tests.fakes.pinch.segmenter import (
    SAMPLE_RATE,
    EnergySegmenter,
    Interim,
    SegmentEvent,
    SpeechEnded,
    SpeechStarted,
)
from tests.support.signals import dominant_frequency, tone


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.int16)


def _ended(events: list[SegmentEvent]) -> list[SpeechEnded]:
    return [e for e in events if isinstance(e, SpeechEnded)]


def test_speech_followed_by_a_half_second_pause_is_one_segment_of_the_speech_only() -> None:
    seg = EnergySegmenter()
    events = seg.feed(np.concatenate([_silence(0.2), tone(440, 0.8), _silence(0.6)]))
    (ended,) = _ended(events)
    assert (ended.start, ended.end) == (round(0.2 * SAMPLE_RATE), round(1.0 * SAMPLE_RATE))
    assert ended.samples.size == round(0.8 * SAMPLE_RATE)
    assert abs(dominant_frequency(ended.samples, SAMPLE_RATE) - 440) < 2


def test_a_pause_shorter_than_half_a_second_does_not_end_the_segment() -> None:
    events = EnergySegmenter().feed(
        np.concatenate([tone(440, 0.4), _silence(0.4), tone(440, 0.4), _silence(0.3)])
    )
    assert _ended(events) == []


def test_two_tones_separated_by_a_pause_are_two_segments_with_their_own_audio() -> None:
    events = EnergySegmenter().feed(
        np.concatenate([tone(300, 0.6), _silence(0.7), tone(700, 0.5), _silence(0.7)])
    )
    first, second = _ended(events)
    assert abs(dominant_frequency(first.samples, SAMPLE_RATE) - 300) < 3
    assert abs(dominant_frequency(second.samples, SAMPLE_RATE) - 700) < 3


def test_segment_ends_on_the_frame_that_completes_the_pause() -> None:
    seg = EnergySegmenter()
    assert _ended(seg.feed(np.concatenate([tone(440, 0.5), _silence(0.49)]))) == []
    assert len(_ended(seg.feed(_silence(0.01)))) == 1


def test_interims_arrive_while_speech_goes_on_before_the_end() -> None:
    events = EnergySegmenter(AgentTuning(interim_every_s=0.3)).feed(
        np.concatenate([tone(440, 1.0), _silence(0.6)])
    )
    kinds = [type(e) for e in events]
    assert kinds == [SpeechStarted, Interim, Interim, Interim, SpeechEnded]
    assert [e.count for e in events if isinstance(e, Interim)] == [1, 2, 3]


def test_a_click_shorter_than_the_minimum_speech_is_not_a_segment() -> None:
    events = EnergySegmenter().feed(np.concatenate([tone(440, 0.05), _silence(0.7)]))
    assert _ended(events) == []


def test_quiet_noise_below_the_threshold_is_silence() -> None:
    noise = (np.random.default_rng(1).normal(0, 100, SAMPLE_RATE)).astype(np.int16)
    assert EnergySegmenter().feed(noise) == []


@pytest.mark.parametrize("chunk", [1, 7, 480, 1000, 4801])
def test_chunk_sizes_do_not_change_the_segments(chunk: int) -> None:
    audio = np.concatenate([tone(500, 0.6), _silence(0.7), tone(900, 0.3), _silence(0.7)])
    whole = _ended(EnergySegmenter().feed(audio))
    seg = EnergySegmenter()
    pieces = [e for i in range(0, audio.size, chunk) for e in seg.feed(audio[i : i + chunk])]
    assert [(e.start, e.end) for e in _ended(pieces)] == [(e.start, e.end) for e in whole]


def test_flush_ends_an_open_segment() -> None:
    seg = EnergySegmenter()
    seg.feed(tone(440, 0.5))
    assert seg.in_speech
    assert len(_ended(seg.flush())) == 1
    assert not seg.in_speech


def test_speech_longer_than_the_maximum_is_cut() -> None:
    events = EnergySegmenter(AgentTuning(max_segment_s=1.0)).feed(
        np.concatenate([tone(440, 2.5), _silence(0.6)])
    )
    assert [e.samples.size for e in _ended(events)] == [48_000, 48_000, 24_000]


def test_translation_frequency_is_1000_hz_plus_100_hz_per_segment_number() -> None:
    assert [translation_frequency(n) for n in (0, 1, 2, 79, 80)] == [
        1000.0, 1100.0, 1200.0, 8900.0, 1000.0
    ]


@pytest.mark.parametrize("number", [0, 1, 17, 79])
def test_segment_number_is_recovered_from_a_slightly_off_frequency(number: int) -> None:
    assert segment_number_for(translation_frequency(number) + 30) == number
    assert segment_number_for(translation_frequency(number) - 30) == number
