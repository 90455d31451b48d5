"""The uplink queue keeps pauses: live, as padding cut short by the next word; in a
backlog, as silence of the pause's real length, so utterances never merge."""

from __future__ import annotations

from bot.interpretation.backlog import is_quiet
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


# -- once the session is live, the backlog is bounded ------------------------------------

BOUND = 10  # frames (200 ms)
LEAST_PAUSE = 30  # frames (600 ms)


def _live_queue(capacity: int = 250) -> UplinkQueue:
    return UplinkQueue(FRAME_S, capacity, SILENCE, live_bound=BOUND, least_pause=LEAST_PAUSE,
                       is_quiet=is_quiet)


def _numbered(n: int, start: int = 1) -> list[bytes]:
    """Distinct speech frames, numbered from ``start`` (two bytes each, little-endian)."""
    return [(i).to_bytes(2, "little") * 320 for i in range(start, start + n)]


def test_a_live_backlog_holds_no_more_than_its_bound_and_keeps_the_newest_speech() -> None:
    queue = _live_queue()
    queue.go_live()
    frames = _numbered(100, start=300)
    for i, frame in enumerate(frames):
        queue.push_speech([frame], now=i * FRAME_S)
        assert len(queue) <= BOUND
    assert _drain(queue) == frames[-BOUND:]
    assert queue.stats.speech_dropped == 100 - BOUND


def test_a_pause_in_a_live_backlog_is_shortened_before_any_speech_is_dropped() -> None:
    queue = _live_queue()
    queue.go_live()
    queue.push_speech(_numbered(3, start=300), now=0.0)
    queue.end_of_speech([], pad_frames=35, now=0.06)
    # 35 frames of pause queued, then 7 of speech: 45 frames, 15 beyond the pause that
    # must end the first utterance (30), 5 beyond the bound.
    queue.push_speech(_numbered(7, start=400), now=0.06 + 1.0)
    assert queue.stats.speech_dropped == 0
    assert queue.stats.pause_shortened == 35 - LEAST_PAUSE
    assert _drain(queue).count(SILENCE) == LEAST_PAUSE


def test_what_waited_for_the_session_to_open_is_kept_whole() -> None:
    queue = _live_queue()
    opening = _numbered(50, start=300)
    queue.push_speech(opening, now=0.0)  # a second of speech before the session is live
    queue.go_live()
    sent: list[bytes] = []
    live = _numbered(150, start=400)
    for i, frame in enumerate(live):  # the transport takes one frame for every three
        queue.push_speech([frame], now=1.0 + i * FRAME_S)
        if i % 3 == 0 and (item := queue.pop()) is not None:
            sent.append(item[1])
    sent += _drain(queue)
    assert sent[:50] == opening
    assert queue.stats.speech_dropped > 0
    assert queue.stats.dropped_frames == 0


def test_once_speech_must_go_the_backlog_comes_down_to_the_bound_as_the_opening_one_leaves(
) -> None:
    queue = _live_queue()
    queue.push_speech(_numbered(50, start=300), now=0.0)
    queue.go_live()
    for i, frame in enumerate(_numbered(300, start=400)):
        queue.push_speech([frame], now=1.0 + i * FRAME_S)
        if i % 3 == 0:
            queue.pop()
    assert queue.protected == 0
    assert len(queue) <= BOUND


def test_a_live_backlog_that_keeps_up_drops_nothing_even_after_a_long_opening() -> None:
    queue = _live_queue()
    queue.push_speech(_numbered(50, start=300), now=0.0)
    queue.go_live()
    for i, frame in enumerate(_numbered(200, start=400)):  # one in, one out: real time
        queue.push_speech([frame], now=1.0 + i * FRAME_S)
        queue.pop()
    assert queue.stats.speech_dropped == 0
    assert len(queue) == 50  # the delay the opening added stays (a real-time transport)


def test_a_queue_on_hold_again_keeps_everything() -> None:
    queue = _live_queue()
    queue.go_live()
    queue.hold()  # the session ended: the next one opens with what waits
    queue.push_speech(_numbered(60, start=300), now=0.0)
    assert len(queue) == 60
    assert queue.stats.speech_dropped == 0
