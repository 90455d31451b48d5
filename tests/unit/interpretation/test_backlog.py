"""The live backlog's cut: pauses shortened first (never below what ends a segment),
then the oldest speech dropped; frames that waited for the session never cut.

Backlogs are written one character a frame, oldest first: ``S`` speech, ``.`` quiet."""

from __future__ import annotations

import numpy as np

from bot.interpretation.backlog import Cut, is_quiet, plan_cut


def _plan(backlog: str, *, bound: int, limit: int | None = None, least_pause: int = 3,
          protected: int = 0) -> Cut:
    return plan_cut([c == "." for c in backlog], protected=protected, bound=bound,
                    limit=bound if limit is None else limit, least_pause=least_pause)


def _after(backlog: str, cut: Cut) -> str:
    gone = set(cut.pause) | set(cut.speech)
    return "".join(c for i, c in enumerate(backlog) if i not in gone)


def test_a_backlog_within_its_bound_is_not_cut() -> None:
    cut = _plan("SSSSS", bound=5)
    assert not cut
    assert cut.load == 5


def test_a_long_pause_is_shortened_first_and_only_as_much_as_the_bound_needs() -> None:
    backlog = "SS........SS"  # 8 frames of pause; least pause 3 (exempt), bound 8
    cut = _plan(backlog, bound=8)
    assert cut.speech == ()
    assert _after(backlog, cut) == "SS.......SS"  # 11 frames, 3 of them the exempt pause
    assert cut.load == 8


def test_a_pause_is_never_shortened_below_what_ends_a_segment_then_the_oldest_speech_goes(
) -> None:
    backlog = "SSSS......SSSS"
    cut = _plan(backlog, bound=4)
    assert _after(backlog, cut) == "...SSSS"
    assert len(cut.pause) == 3
    assert cut.speech == (0, 1, 2, 3)  # the oldest speech
    assert cut.load == 4


def test_one_pause_that_ends_a_segment_is_allowed_on_top_of_the_bound() -> None:
    cut = _plan("SS...SS", bound=4)  # 7 frames: 4 + the 3-frame pause
    assert not cut
    assert cut.load == 4


def test_pauses_are_never_dropped_the_speech_around_them_goes_and_they_join() -> None:
    backlog = "SS.SS.SS"
    cut = _plan(backlog, bound=3)
    assert cut.pause == ()
    assert cut.speech == (0, 1, 3, 4)
    assert _after(backlog, cut) == "..SS"  # the pause before the newest speech
    assert cut.load == 2


def test_speech_dropped_between_two_pauses_joins_them_into_one_short_enough_pause() -> None:
    backlog = "...S...SS"  # a pause, one frame of speech, a pause, speech
    cut = _plan(backlog, bound=2)
    assert _after(backlog, cut) == "...SS"
    assert cut.speech == (3,)
    assert len(cut.pause) == 3
    assert cut.load == 2


def test_frames_that_waited_for_the_session_are_never_cut() -> None:
    backlog = "SSSS....SSSS"
    cut = _plan(backlog, bound=2, protected=6)
    assert all(i >= 6 for i in cut.pause + cut.speech)
    assert _after(backlog, cut).startswith("SSSS..")


def test_above_the_bound_speech_is_dropped_only_down_to_the_limit() -> None:
    backlog = "SSSSSSSSSS......"
    cut = _plan(backlog, bound=4, limit=8)
    assert len(cut.pause) == 3  # pauses still shortened towards the bound
    assert cut.speech == (0, 1)
    assert cut.load == 8


def test_a_backlog_of_protected_frames_alone_is_left_over_its_limit() -> None:
    cut = _plan("SSSSSS", bound=2, protected=6)
    assert not cut
    assert cut.load == 6


def test_digital_silence_and_a_whisper_are_quiet_and_a_voice_is_not() -> None:
    t = np.arange(320) / 16_000
    voice = (0.3 * 32767 * np.sin(2 * np.pi * 300 * t)).astype(np.int16).tobytes()
    whisper = (0.001 * 32767 * np.sin(2 * np.pi * 300 * t)).astype(np.int16).tobytes()
    assert is_quiet(bytes(640))
    assert is_quiet(whisper)
    assert not is_quiet(voice)
