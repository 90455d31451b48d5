"""A link's drops past its bound: counted by cause, shown for a while, told once when
they last."""

from __future__ import annotations

from bot.interpretation.behind import (
    DOWNLINK_DROPPED,
    SHOWN_FOR_S,
    TELL_AFTER_S,
    UPLINK_PAUSE_SHORTENED,
    UPLINK_SPEECH_DROPPED,
    BehindRecord,
)


def test_drops_are_counted_in_ms_by_cause() -> None:
    record = BehindRecord()
    record.note(UPLINK_SPEECH_DROPPED, 20, now=0.0)
    record.note(UPLINK_SPEECH_DROPPED, 40, now=0.1)
    record.note(DOWNLINK_DROPPED, 20, now=0.2)
    assert record.dropped_ms == {UPLINK_PAUSE_SHORTENED: 0.0, UPLINK_SPEECH_DROPPED: 60.0,
                                 DOWNLINK_DROPPED: 20.0}


def test_a_link_is_behind_for_a_while_after_its_last_drop() -> None:
    record = BehindRecord()
    assert not record.behind(now=0.0)
    record.note(UPLINK_SPEECH_DROPPED, 20, now=1.0)
    assert record.behind(now=1.0 + SHOWN_FOR_S)
    assert not record.behind(now=1.0 + SHOWN_FOR_S + 0.1)


def test_dropping_that_lasts_is_told_once() -> None:
    record = BehindRecord()
    told = [record.note(UPLINK_SPEECH_DROPPED, 20, now=i * 0.5) for i in range(30)]
    assert told.count(True) == 1
    assert told.index(True) == int(TELL_AFTER_S / 0.5)


def test_a_short_stall_is_counted_but_not_told() -> None:
    record = BehindRecord()
    told = [record.note(DOWNLINK_DROPPED, 20, now=i * 0.5) for i in range(8)]  # 3.5 s
    assert not any(told)


def test_drops_seconds_apart_are_separate_episodes_each_told_when_it_lasts() -> None:
    record = BehindRecord()
    first = [record.note(UPLINK_SPEECH_DROPPED, 20, now=i * 0.5) for i in range(8)]
    second = [record.note(UPLINK_SPEECH_DROPPED, 20, now=10.0 + i * 0.5) for i in range(12)]
    assert not any(first)  # 3.5 s, then 6 s without a drop
    assert second.count(True) == 1
