"""Live captions are throttled per speaker and leave the board when the final arrives."""

from __future__ import annotations

from bot.transcripts.captions import CaptionBoard


def test_a_new_caption_is_due_at_once_then_at_most_once_per_interval() -> None:
    board = CaptionBoard(interval_s=1.0)
    board.interim("alice", 1, "hel")
    [caption] = board.due(0.0)
    board.shown(caption, caption.text, 0.0, "msg")
    board.interim("alice", 1, "hello")
    assert board.due(0.5) == []
    assert board.next_deadline() == 1.0
    assert board.due(1.0) == [caption]


def test_nothing_is_due_when_the_text_did_not_change() -> None:
    board = CaptionBoard(interval_s=1.0)
    board.interim("alice", 1, "hello")
    [caption] = board.due(0.0)
    board.shown(caption, "hello", 0.0, "msg")
    assert board.due(5.0) == []
    assert board.next_deadline() is None


def test_speakers_have_separate_captions() -> None:
    board = CaptionBoard()
    board.interim("alice", 1, "a")
    board.interim("bob", 2, "b")
    assert sorted(c.key for c in board.due(0.0)) == ["alice", "bob"]


def test_the_final_detaches_the_caption_for_deletion() -> None:
    board = CaptionBoard()
    board.interim("alice", 1, "hello")
    caption = board.finish("alice")
    assert caption is not None
    assert caption.text == "hello"
    assert board.due(10.0) == []
    assert board.finish("alice") is None
