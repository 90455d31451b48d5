"""Utterance identity within a link: an original transcript and its translation share a number.

Pinch sends, per segment, interim originals, one final original, then one
translation, in that order, and segments are translated in the order they were
spoken. So numbering the final originals of a link and giving each translation
the oldest number still waiting for one pairs them without looking at the text
or trusting timestamps (the translation's timestamp is when it was made, about a
second later, by which time someone else may be speaking). Interim originals
carry the number their final will get. Pure; one per link, reset per session
(a translation never crosses sessions).
"""

from __future__ import annotations

import collections

from bot.pinch import TranscriptEvent

MAX_WAITING = 64
"""Finals kept waiting for a translation; older are given up (a translation was lost)."""


class UtteranceNumbers:
    def __init__(self) -> None:
        self._next = 0
        self._waiting: collections.deque[int] = collections.deque(maxlen=MAX_WAITING)
        self._interim_open = False

    def pending(self) -> bool:
        """Whether an utterance is under way: heard but not final, or final but untranslated."""
        return self._interim_open or bool(self._waiting)

    def number(self, event: TranscriptEvent) -> int:
        """The utterance ``event`` belongs to (numbers only grow, across sessions too)."""
        if event.kind == "original":
            if not event.is_final:
                self._interim_open = True
                return self._next
            self._interim_open = False
            number = self._next
            self._next += 1
            self._waiting.append(number)
            return number
        if self._waiting:
            return self._waiting.popleft()
        # A translation without an original (lost, or malformed): its own utterance.
        number = self._next
        self._next += 1
        return number

    def new_session(self) -> None:
        """Originals of the previous session will get no translation now."""
        self._waiting.clear()
        self._interim_open = False
