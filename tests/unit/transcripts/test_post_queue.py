"""The post queue keeps order, never drops, and merges consecutive posts when behind."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.transcripts.pairing import Utterance
from bot.transcripts.post_queue import AmendOp, PostOp, PostQueue


def utterance(n: int) -> Utterance:
    return Utterance(n, "L", None, 1, f"u{n}", None, None, 0.0, 0.0, 0.0)


def fits(limit: int) -> Callable[[Sequence[Utterance]], bool]:
    def check(us: Sequence[Utterance]) -> bool:
        return len(us) <= limit
    return check


def originals(op: PostOp | AmendOp | None) -> list[str]:
    assert isinstance(op, PostOp)
    return [u.original for u in op.utterances]


def test_posts_come_out_one_by_one_while_the_queue_keeps_up() -> None:
    q = PostQueue(fits(10), merge_backlog=3)
    q.post(utterance(0))
    q.post(utterance(1))
    assert originals(q.take()) == ["u0"]
    assert originals(q.take()) == ["u1"]
    assert q.take() is None


def test_a_backlog_merges_consecutive_posts_up_to_what_fits() -> None:
    q = PostQueue(fits(3), merge_backlog=3)
    for n in range(7):
        q.post(utterance(n))
    assert [originals(q.take()) for _ in range(3)] == [["u0", "u1", "u2"], ["u3", "u4", "u5"],
                                                       ["u6"]]
    assert q.counters.merged == 4


def test_an_amend_is_never_merged_and_stays_in_place() -> None:
    q = PostQueue(fits(10), merge_backlog=2)
    q.post(utterance(0))
    q.post(utterance(1))
    q.amend(utterance(9))
    q.post(utterance(2))
    assert originals(q.take()) == ["u0", "u1"]
    amend = q.take()
    assert isinstance(amend, AmendOp)
    assert amend.utterance.original == "u9"
    assert originals(q.take()) == ["u2"]


def test_at_the_hard_limit_posts_merge_even_past_one_message() -> None:
    q = PostQueue(fits(1), merge_backlog=2, hard_limit=5)
    for n in range(6):
        q.post(utterance(n))
    assert len(originals(q.take())) == 6
    assert q.counters.peak == 6
