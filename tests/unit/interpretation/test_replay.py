"""What an undecided member said is kept (bounded) and replayed into their reversed link."""

from __future__ import annotations

import asyncio

import numpy as np

from bot.audio.frames import FRAME_MS, SILENCE_FRAME
from bot.interpretation.replay import SpeechRecording
from bot.interpretation.router import RouterConfig, SpeakerRouter
from tests.support.signals import tone
from tests.unit.interpretation.test_router import RecordingLink

SPEECH = np.repeat(tone(500, 0.02, amplitude=0.3), 2).astype(np.int16).tobytes()


def test_a_recording_keeps_speech_and_the_pause_that_ended_it() -> None:
    recording = SpeechRecording(max_ms=1_000)
    for _ in range(3):
        recording.frame(SPEECH)
    recording.end(pad_ms=100)
    replay = recording.take()
    assert replay.frames == (SPEECH,) * 3 + (SILENCE_FRAME,) * (100 // FRAME_MS)
    assert replay.ended
    assert replay.dropped == 0
    assert recording.take().frames == ()  # taken once


def test_speech_after_an_end_means_the_member_is_talking_again() -> None:
    recording = SpeechRecording(max_ms=1_000)
    recording.frame(SPEECH)
    recording.end(pad_ms=0)
    recording.frame(SPEECH)
    assert not recording.take().ended


def test_a_recording_keeps_the_latest_audio_and_counts_what_it_dropped() -> None:
    recording = SpeechRecording(max_ms=100)
    for i in range(8):
        recording.frame(bytes([i]) * 4)
    replay = recording.take()
    assert [f[0] for f in replay.frames] == [3, 4, 5, 6, 7]
    assert replay.dropped == 3
    assert replay.duration_ms == 100


def _router() -> tuple[SpeakerRouter, list[RecordingLink]]:
    made: list[RecordingLink] = []

    def make(key: int) -> RecordingLink:
        made.append(RecordingLink(key))
        return made[-1]

    return SpeakerRouter(RouterConfig(), make, is_excluded=lambda m: False), made


async def test_reopening_with_a_replay_opens_the_new_link_at_once_and_feeds_it_first() -> None:
    router, made = _router()
    recording = SpeechRecording(max_ms=1_000)
    router.on_frame(7, SPEECH)
    recording.frame(SPEECH)
    recording.end(pad_ms=40)

    router.reopen(7, recording.take())

    old, new = made
    assert router.links[7] is new
    await asyncio.sleep(0)  # the router closes the old link in a task of its own
    assert old.closed
    assert new.frames == [SPEECH, SILENCE_FRAME, SILENCE_FRAME]
    assert new.ends == 1  # the replayed utterance had ended
    router.on_frame(7, SPEECH)  # what they say next follows the replay
    assert new.frames[-1] == SPEECH
    assert len(old.frames) == 1
    await router.aclose()


async def test_reopening_without_a_replay_waits_for_the_next_speech() -> None:
    router, made = _router()
    router.on_frame(7, SPEECH)
    router.reopen(7)
    assert 7 not in router.links
    router.on_frame(7, SPEECH)
    assert len(made) == 2
    await router.aclose()
