"""Who said it: attributes a mixed-mode transcript to a member from the speaking timeline.

In ``mixed`` mode one Pinch session hears everybody, so a transcript carries no
speaker. The router records, per member, the wall-clock intervals in which that
member's voice was forwarded; a final transcript's ``timestamp`` marks the end of
its utterance, and the utterance began after the previous final one. The member
who spoke longest inside that window is the speaker. Pure and bounded: intervals
older than ``horizon_s`` are forgotten.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Interval:
    start: float
    end: float


class SpeakingTimeline:
    """Per-member speaking intervals (unix seconds), with a bounded memory."""

    def __init__(self, *, horizon_s: float = 120.0, max_window_s: float = 30.0,
                 slack_s: float = 1.5) -> None:
        self.horizon_s = horizon_s
        self.max_window_s = max_window_s
        # Transcripts carry the end of speech as seen by Pinch, which is later than
        # our forwarding by the network and the segmenter's pause detection.
        self.slack_s = slack_s
        self._intervals: dict[int, collections.deque[Interval]] = {}
        self._open: dict[int, float] = {}
        self._last_final: float | None = None

    def speech(self, member_id: int, at: float, frame_s: float = 0.02) -> None:
        """Record that ``member_id`` was forwarded for ``frame_s`` ending at ``at``."""
        start = self._open.get(member_id)
        intervals = self._intervals.setdefault(member_id, collections.deque())
        if start is not None and intervals and at - frame_s - intervals[-1].end <= 0.1:
            # Extend the current interval (gaps under 100 ms are the same speech).
            intervals[-1] = Interval(intervals[-1].start, at)
        else:
            intervals.append(Interval(at - frame_s, at))
        self._open[member_id] = at
        self._prune(at)

    def silence(self, member_id: int) -> None:
        self._open.pop(member_id, None)

    def speaker_for(self, utterance_end: float) -> int | None:
        """The member who spoke most in the utterance ending at ``utterance_end``."""
        window_end = utterance_end + self.slack_s
        window_start = utterance_end - self.max_window_s
        if self._last_final is not None:
            window_start = max(window_start, self._last_final)
        self._last_final = utterance_end
        best, best_overlap = None, 0.0
        for member_id, intervals in self._intervals.items():
            overlap = sum(max(0.0, min(i.end, window_end) - max(i.start, window_start))
                          for i in intervals)
            if overlap > best_overlap:
                best, best_overlap = member_id, overlap
        return best

    def interval_count(self) -> int:
        """Intervals held in memory (bounded by the horizon)."""
        return sum(len(intervals) for intervals in self._intervals.values())

    def _prune(self, now: float) -> None:
        cutoff = now - self.horizon_s
        for intervals in self._intervals.values():
            while intervals and intervals[0].end < cutoff:
                intervals.popleft()
