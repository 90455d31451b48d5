"""The uplink queue keeps pauses: live, as padding cut short by the next word; in a
backlog, as silence of the pause's real length, so utterances never merge."""

from __future__ import annotations

from bot.interpretation.uplink_queue import UplinkQueue

SILENCE = b"\x00" * 640
FRAME_S = 0.02


def _speech(n: int, mark: int = 1) -> list[bytes]:
    return [bytes([mark]) * 640 for _ in range(n)]


def _drain(queue: UplinkQueue) -> list[bytes]:
    out = []
    while (item := queue.pop()) is not None:
        out.append(item[1])
    return out


def test_a_pause_that_ends_while_frames_wait_is_queued_at_its_real_length() -> None:
    queue = UplinkQueue(FRAME_S, 1000, SILENCE)
    queue.push_speech(_speech(10, 1), now=0.0)
    queue.end_of_speech([], pad_frames=35, now=0.2)
    queue.push_speech(_speech(10, 2), now=0.2 + 0.6)  # spoke again 600 ms later
    frames = _drain(queue)
    assert frames[:10] == _speech(10, 1)
    assert frames[10:40] == [SILENCE] * 30
    assert frames[40:] == _speech(10, 2)
    assert queue.stats.padding_queued == 30
    assert queue.stats.padding_cancelled == 5


def test_a_pause_longer_than_the_padding_is_capped_at_the_padding() -> None:
    queue = UplinkQueue(FRAME_S, 1000, SILENCE)
    queue.push_speech(_speech(5), now=0.0)
    queue.end_of_speech([], pad_frames=35, now=0.1)
    queue.push_speech(_speech(5, 2), now=10.0)
    assert _drain(queue).count(SILENCE) == 35


def test_live_padding_is_sent_only_when_nothing_waits_and_the_next_word_cancels_the_rest() -> None:
    queue = UplinkQueue(FRAME_S, 1000, SILENCE)
    queue.push_speech(_speech(3), now=0.0)
    queue.end_of_speech([], pad_frames=35, now=0.06)
    assert not queue.take_padding()  # speech still waits: it goes first
    _drain(queue)
    sent = sum(queue.take_padding() for _ in range(10))
    queue.push_speech(_speech(1, 2), now=0.06 + 0.2)  # 10 frames of real pause
    assert sent == 10
    assert queue.stats.padding_queued == 0
    assert queue.stats.padding_cancelled == 25
    assert not queue.take_padding()


def test_padding_sent_plus_queued_plus_cancelled_is_the_padding_asked_for() -> None:
    queue = UplinkQueue(FRAME_S, 1000, SILENCE)
    queue.end_of_speech([], pad_frames=20, now=0.0)
    for _ in range(4):
        queue.take_padding()
    queue.push_speech(_speech(1), now=0.2)
    stats = queue.stats
    assert stats.padding_sent + stats.padding_queued + stats.padding_cancelled == 20


def test_a_full_queue_drops_the_oldest_and_counts_it() -> None:
    queue = UplinkQueue(FRAME_S, 4, SILENCE)
    queue.push_speech(_speech(3, 1) + _speech(3, 2), now=0.0)
    assert len(queue) == 4
    assert queue.stats.dropped_frames == 2
    assert _drain(queue)[0] == bytes([1]) * 640
