"""Pairing originals with their translations, and releasing utterances in order.

A pure state machine (time is a parameter) fed with the final transcripts of one
run. Each final original opens an :class:`Utterance`; its translation joins it:

- by ``(link, utterance number)`` when the engine numbers them (the original and
  its translation share the number);
- otherwise by arrival order on the link: a translation belongs to the oldest
  original of the same link that has none yet (Pinch answers a session's
  utterances in order).

Utterances are *released* (handed to the writer to post) strictly in the order
their originals arrived: the oldest one goes when its translation is there or
``wait_s`` after it arrived, whichever is first, so a slow translation holds the
ones behind it for at most ``wait_s``. An utterance released without its
translation stays matchable for ``amend_window_s``; a translation arriving in
that time is returned to the caller to edit the post. A translation nobody is
waiting for (its original was lost) becomes an utterance of its own.

Memory is bounded: past ``max_open`` utterances waiting for release (or for a
late translation) the oldest is released (or given up) at once.
"""

from __future__ import annotations

import collections
import itertools
from dataclasses import dataclass

from bot.interpretation.pair_mode import Direction


@dataclass(slots=True)
class Utterance:
    """One thing a member said, and what it became. Mutated only by the :class:`Pairer`."""

    seq: int
    link: str
    number: int | None
    member_id: int | None
    original: str
    original_language: str | None
    translation: str | None
    started_at: float
    """Unix seconds (an estimate: Pinch reports only the end)."""
    ended_at: float
    """Unix seconds, end of the utterance as Pinch reports it."""
    arrived_at: float
    """Our monotonic clock, when the original (or the lone translation) arrived."""
    released: bool = False
    direction: Direction | None = None
    """Pair mode: what it was interpreted from and into (``None``: the run's own)."""

    @property
    def complete(self) -> bool:
        return self.translation is not None


class Pairer:
    def __init__(self, *, wait_s: float = 5.0, amend_window_s: float = 120.0,
                 max_open: int = 500) -> None:
        self.wait_s = wait_s
        self.amend_window_s = amend_window_s
        self.max_open = max_open
        self._seq = itertools.count()
        self._pending: collections.deque[Utterance] = collections.deque()
        # Released without a translation, oldest first, still matchable.
        self._awaiting: collections.deque[Utterance] = collections.deque()

    # -- input ---------------------------------------------------------------------

    def original(self, *, link: str, number: int | None, member_id: int | None, text: str,
                 language: str | None, started_at: float, ended_at: float,
                 now: float, direction: Direction | None = None) -> Utterance:
        utterance = Utterance(next(self._seq), link, number, member_id, text, language, None,
                              min(started_at, ended_at), ended_at, now, direction=direction)
        self._pending.append(utterance)
        return utterance

    def translation(self, *, link: str, number: int | None, member_id: int | None, text: str,
                    ended_at: float, now: float,
                    direction: Direction | None = None) -> tuple[Utterance, bool]:
        """Attach a translation. Returns the utterance and whether it was already released
        (then the caller amends what it posted)."""
        match = self._match(link, number)
        if match is None:
            lone = Utterance(next(self._seq), link, number, member_id, "", None, text,
                             ended_at, ended_at, now, direction=direction)
            self._pending.append(lone)
            return lone, False
        match.translation = text
        if match.released:
            self._awaiting.remove(match)
            return match, True
        return match, False

    # -- output --------------------------------------------------------------------

    def due(self, now: float) -> list[Utterance]:
        """Utterances to post now, in order (complete ones, or those that waited enough)."""
        out: list[Utterance] = []
        while self._pending:
            head = self._pending[0]
            overfull = len(self._pending) > self.max_open
            if not (head.complete or now - head.arrived_at >= self.wait_s or overfull):
                break
            out.append(self._release(self._pending.popleft()))
        return out

    def expired(self, now: float) -> list[Utterance]:
        """Released utterances whose translation never came: no longer matchable."""
        out: list[Utterance] = []
        while self._awaiting and (
                now - self._awaiting[0].arrived_at >= self.amend_window_s
                or len(self._awaiting) > self.max_open):
            out.append(self._awaiting.popleft())
        return out

    def drain(self) -> tuple[list[Utterance], list[Utterance]]:
        """Everything at once, for the end of a run: (to post, given up waiting)."""
        given_up = list(self._awaiting)
        to_post = [self._release(u) for u in self._pending]
        self._pending.clear()
        self._awaiting.clear()
        return to_post, given_up

    def next_deadline(self) -> float | None:
        """When :meth:`due` or :meth:`expired` will next have something (monotonic)."""
        times = []
        if self._pending:
            times.append(self._pending[0].arrived_at + self.wait_s)
        if self._awaiting:
            times.append(self._awaiting[0].arrived_at + self.amend_window_s)
        return min(times) if times else None

    @property
    def open_count(self) -> int:
        return len(self._pending) + len(self._awaiting)

    # -- internals -----------------------------------------------------------------

    def _release(self, utterance: Utterance) -> Utterance:
        utterance.released = True
        if not utterance.complete:
            self._awaiting.append(utterance)
        return utterance

    def _match(self, link: str, number: int | None) -> Utterance | None:
        # Oldest first: released-and-waiting ones are older than pending ones.
        for candidate in itertools.chain(self._awaiting, self._pending):
            if candidate.link != link or candidate.complete:
                continue
            if number is None or candidate.number is None or candidate.number == number:
                return candidate
        return None
