"""``scripts/bench load``'s measuring: which mark a Pinch onset ends, when a translation's
tone arrived, and speech whose every phrase is a segment of its own."""

from __future__ import annotations

import numpy as np
import pytest

from tests.benchmarks.guilds import PAUSE_S, Speaker, tone_onset, uplink_probes
from tests.benchmarks.speech import speech_like
from tests.support.signals import frame_spectra, tone

GUILD, OTHER_GUILD = 1, 2
ALICE, BOB = 10, 20


def test_a_mark_ends_at_the_onset_pinch_heard_in_its_own_members_session() -> None:
    alice = Speaker(GUILD, ALICE, marks=[100.0, 103.0])
    bob = Speaker(OTHER_GUILD, BOB, marks=[100.5])
    rooms = {"room-a": (GUILD, ALICE), "room-b": (OTHER_GUILD, BOB)}
    heard = {"room-a": [100.06, 103.08], "room-b": [100.54]}

    probes = uplink_probes([alice, bob], rooms, heard, window=(0.0, 200.0))

    assert probes[GUILD].uplink == pytest.approx([0.06, 0.08])
    assert probes[OTHER_GUILD].uplink == pytest.approx([0.04])
    assert (probes[GUILD].marks_sent, probes[GUILD].marks_lost) == (2, 0)


def test_marks_before_the_measured_window_are_left_out_without_shifting_the_rest() -> None:
    alice = Speaker(GUILD, ALICE, marks=[1.0, 3.0, 5.0])
    heard = {"room-a": [1.05, 3.07, 5.09]}

    probes = uplink_probes([alice], {"room-a": (GUILD, ALICE)}, heard, window=(2.0, 10.0))

    assert probes[GUILD].uplink == pytest.approx([0.07, 0.09])
    assert probes[GUILD].marks_sent == 2


def _frames(*tones_hz: float) -> np.ndarray:
    """One 20 ms frame per entry: a tone, or silence for 0."""
    return np.stack([tone(hz, 0.02, amplitude=0.5).astype(np.float64) if hz
                     else np.zeros(960) for hz in tones_hz])


def test_a_translation_arrives_with_the_first_of_three_frames_in_a_row_holding_its_tone() -> None:
    frames = _frames(0, 1500, 0, 1500, 1500, 1200, 1500, 1500, 1500, 1500)
    arrivals = 10.0 + 0.02 * np.arange(len(frames))

    onset = tone_onset(arrivals, frame_spectra(frames), 1500.0, after=10.0)

    assert onset == pytest.approx(arrivals[6])


def test_a_tone_before_its_translation_started_is_not_its_arrival() -> None:
    frames = _frames(1500, 1500, 1500, 0, 0, 1500, 1500, 1500)
    arrivals = 10.0 + 0.02 * np.arange(len(frames))

    assert tone_onset(arrivals, frame_spectra(frames), 1500.0, after=10.05) == pytest.approx(
        arrivals[5])
    assert tone_onset(arrivals, frame_spectra(frames), 1700.0, after=10.0) is None


@pytest.mark.parametrize("seed", range(1000, 1093, 10))  # the first member of each guild
def test_the_load_speech_pauses_long_enough_between_phrases_for_pinch_to_end_a_segment(
        seed: int) -> None:
    speech = speech_like(12.0, seed, pause_s=PAUSE_S)
    voiced = speech.voiced
    starts = sorted(speech.phrase_starts)
    for start in starts[1:]:
        quiet = 0
        while not voiced[start - quiet - 1]:
            quiet += 1
        assert quiet * 0.02 >= PAUSE_S[0] - 0.02, start
