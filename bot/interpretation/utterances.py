"""Utterance identity within a link: an original transcript and its translation share a number.

Where the API pairs them itself (the WebSocket API's ``correlation_id``), its word
is taken: every message with the same correlation id gets the same number, the
first one seen (an interim, usually) allocating it. Otherwise order decides:
Pinch sends, per segment, interim originals, one final original, then one
translation, in that order, and segments are translated in the order they were
spoken. So numbering the final originals of a link and giving each translation
the oldest number still waiting for one pairs them without looking at the text
or trusting timestamps (the translation's timestamp is when it was made, about a
second later, by which time someone else may be speaking). Interim originals
carry the number their final will get. Both ways mix safely: a final original
always waits in the order queue, and a translation paired by its id takes its
number out of it. Pure; one per link, reset per session (a translation never
crosses sessions).
"""

from __future__ import annotations

import collections

from bot.pinch import TranscriptEvent

MAX_WAITING = 64
"""Finals kept waiting for a translation; older are given up (a translation was lost)."""
MAX_CORRELATIONS = 256
"""Correlation ids remembered; older are forgotten (their translations came long ago)."""


class UtteranceNumbers:
    def __init__(self) -> None:
        self._next = 0
        self._waiting: collections.deque[int] = collections.deque(maxlen=MAX_WAITING)
        self._correlated: collections.OrderedDict[str, int] = collections.OrderedDict()
        self._interim_open = False

    def pending(self) -> bool:
        """Whether an utterance is under way: heard but not final, or final but untranslated."""
        return self._interim_open or bool(self._waiting)

    def number(self, event: TranscriptEvent) -> int:
        """The utterance ``event`` belongs to (numbers only grow, across sessions too)."""
        if event.kind == "original":
            return self._original(event)
        known = (self._correlated.get(event.correlation_id)
                 if event.correlation_id is not None else None)
        if known is not None:
            if known in self._waiting:
                self._waiting.remove(known)
            return known
        if self._waiting:
            return self._waiting.popleft()
        # A translation without an original (lost, or malformed): its own utterance.
        return self._allocate()

    def _original(self, event: TranscriptEvent) -> int:
        self._interim_open = not event.is_final
        cid = event.correlation_id
        if cid is not None:
            number = self._correlated.get(cid)
            if number is None:
                number = self._correlated[cid] = self._allocate()
                while len(self._correlated) > MAX_CORRELATIONS:
                    self._correlated.popitem(last=False)
            if event.is_final and number not in self._waiting:
                self._waiting.append(number)
            return number
        if not event.is_final:
            return self._next
        number = self._allocate()
        self._waiting.append(number)
        return number

    def _allocate(self) -> int:
        number = self._next
        self._next += 1
        return number

    def new_session(self) -> None:
        """Originals of the previous session will get no translation now."""
        self._waiting.clear()
        self._correlated.clear()
        self._interim_open = False
