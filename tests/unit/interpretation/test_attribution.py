"""Mixed-mode transcripts are attributed to whoever spoke most in their utterance."""

from __future__ import annotations

from bot.interpretation.attribution import SpeakingTimeline


def _speak(timeline: SpeakingTimeline, member: int, start: float, end: float) -> None:
    t = start
    while t < end:
        t = round(t + 0.02, 6)
        timeline.speech(member, t)
    timeline.silence(member)


def test_single_speaker_gets_the_transcript() -> None:
    timeline = SpeakingTimeline()
    _speak(timeline, 1, 100.0, 102.0)
    assert timeline.speaker_for(102.3) == 1


def test_consecutive_utterances_go_to_their_own_speakers() -> None:
    timeline = SpeakingTimeline(slack_s=0.5)
    _speak(timeline, 1, 100.0, 102.0)
    _speak(timeline, 2, 103.0, 105.0)
    assert timeline.speaker_for(102.2) == 1
    assert timeline.speaker_for(105.2) == 2


def test_overlapping_speech_goes_to_the_longest_speaker() -> None:
    timeline = SpeakingTimeline()
    _speak(timeline, 1, 100.0, 100.5)
    _speak(timeline, 2, 100.2, 102.0)
    assert timeline.speaker_for(102.0) == 2


def test_no_speech_in_the_window_gives_no_speaker() -> None:
    timeline = SpeakingTimeline(max_window_s=5.0, slack_s=0.5)
    _speak(timeline, 1, 100.0, 101.0)
    assert timeline.speaker_for(200.0) is None


def test_old_intervals_are_forgotten_beyond_the_horizon() -> None:
    timeline = SpeakingTimeline(horizon_s=10.0)
    _speak(timeline, 1, 0.0, 1.0)
    _speak(timeline, 1, 2.0, 3.0)
    assert timeline.interval_count() == 2
    _speak(timeline, 2, 100.0, 101.0)
    assert timeline.interval_count() == 1
