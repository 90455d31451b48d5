"""The per-thread queue of things to post: ordered, never dropping, merging when behind.

Two kinds of operation wait here, in the order they happened: :class:`PostOp`
(post one or more utterances as new messages) and :class:`AmendOp` (a late
translation arrived: edit the post that holds its utterance). One worker takes
them one at a time, so the thread shows utterances in the order they were said.

Nothing is ever dropped. When the worker falls behind (Discord rate limits, an
outage) and at least ``merge_backlog`` operations wait, :meth:`PostQueue.take`
merges consecutive posts from the head into one, as long as the result still
fits one message (the ``fits`` predicate, supplied by the writer who renders).
If the queue ever holds ``hard_limit`` operations, posts merge regardless of size
(the result spans several messages), which keeps the number of queued items
bounded while a long outage lasts; the text itself is kept until delivered.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.transcripts.pairing import Utterance


@dataclass(slots=True)
class PostOp:
    utterances: list[Utterance]


@dataclass(slots=True)
class AmendOp:
    utterance: Utterance


Op = PostOp | AmendOp


@dataclass(slots=True)
class QueueCounters:
    posts: int = 0
    amends: int = 0
    merged: int = 0
    """Utterances that joined an earlier post instead of getting their own."""
    peak: int = 0


class PostQueue:
    def __init__(self, fits: Callable[[Sequence[Utterance]], bool], *, merge_backlog: int = 3,
                 hard_limit: int = 2000) -> None:
        self._fits = fits
        self.merge_backlog = merge_backlog
        self.hard_limit = hard_limit
        self._ops: collections.deque[Op] = collections.deque()
        self.counters = QueueCounters()

    def __len__(self) -> int:
        return len(self._ops)

    def post(self, utterance: Utterance) -> None:
        self._ops.append(PostOp([utterance]))
        self.counters.posts += 1
        self._grew()

    def amend(self, utterance: Utterance) -> None:
        self._ops.append(AmendOp(utterance))
        self.counters.amends += 1
        self._grew()

    def take(self) -> Op | None:
        """The next operation, with consecutive posts merged when the queue is behind."""
        if not self._ops:
            return None
        head = self._ops.popleft()
        if not isinstance(head, PostOp) or len(self._ops) + 1 < self.merge_backlog:
            return head
        forced = len(self._ops) + 1 >= self.hard_limit
        while self._ops and isinstance(self._ops[0], PostOp):
            candidate = [*head.utterances, *self._ops[0].utterances]
            if not forced and not self._fits(candidate):
                break
            head.utterances = candidate
            self._ops.popleft()
            self.counters.merged += 1
        return head

    def _grew(self) -> None:
        self.counters.peak = max(self.counters.peak, len(self._ops))
