"""What a live link cuts from its uplink backlog to stay within its bound (pure).

Once a session is live, every frame waiting in a link's uplink reaches Pinch that
much later: a link whose transport cannot keep up (an event loop saturated by many
links, a slow socket, a stalled send) would fall further behind with every word.
So the backlog has a bound (``LinkConfig.live_backlog_ms``), and past it:

1. pauses are shortened first — a pause longer than ``least_pause`` (what Pinch needs
   in the audio to end a segment) loses its excess, oldest pause first and only as
   much as the bound needs: nothing said is lost and utterances stay apart;
2. then the oldest speech is dropped, frame by frame, until the backlog is back
   within its ``limit``. Pauses are never dropped, so an utterance cut short still
   ends in a pause; speech dropped between two pauses makes one pause of them, which
   step 1 shortens again.

One pause of at most ``least_pause`` frames (the longest) is allowed on top of the
bound: the speech before it has been sent, or dropped, and Pinch still needs that
pause to end its segment. The delay the backlog adds is so at most the bound, plus
that one pause right after an utterance.

The first ``protected`` frames (what waited while the session was opening) are never
cut, and the ``limit`` speech is dropped down to may be above the bound (a session
that opened with a longer backlog, see :class:`~bot.interpretation.uplink_queue.UplinkQueue`).

Frames are described only by whether they are quiet (:func:`is_quiet`); the caller
applies the :class:`Cut`. Cheap: a cut is planned only past the bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from bot.audio.frames import pcm_to_samples
from bot.audio.levels import dbfs

QUIET_DBFS: Final = -45.0
"""A frame below this is part of a pause (the router's speech gate, ``gate_threshold_dbfs``)."""


def is_quiet(pcm: bytes) -> bool:
    """Whether a frame of PCM16 is quiet enough to be part of a pause."""
    return dbfs(pcm_to_samples(pcm)) < QUIET_DBFS


@dataclass(frozen=True, slots=True)
class Cut:
    """Frames to take out of a backlog, by index (0 is the oldest), and why."""

    pause: tuple[int, ...] = ()
    """Frames of pauses shortened to fit the bound."""
    speech: tuple[int, ...] = ()
    """Frames of speech dropped (the oldest first)."""
    load: int = 0
    """Frames counted against the limit once cut (the one pause ending a segment is not)."""

    def __bool__(self) -> bool:
        return bool(self.pause or self.speech)


def plan_cut(quiet: Sequence[bool], *, protected: int, bound: int, limit: int,
             least_pause: int) -> Cut:
    """The cut that brings a backlog of frames (``quiet[i]``: frame ``i`` is quiet)
    within ``bound`` by shortening pauses, then within ``limit`` (≥ ``bound``) by
    dropping the oldest speech; the first ``protected`` frames are never cut."""
    plan = _Plan(quiet, protected, least_pause)
    plan.shorten_pauses(bound)
    while plan.load() > limit and plan.drop_oldest_speech():
        plan.shorten_pauses(bound)
    return Cut(tuple(sorted(plan.pause_cut)), tuple(sorted(plan.speech_cut)), plan.load())


class _Plan:
    """A backlog being cut: the frames still kept beyond the protected ones."""

    def __init__(self, quiet: Sequence[bool], protected: int, least_pause: int) -> None:
        self._quiet = quiet
        self._protected = min(protected, len(quiet))
        self._least = max(1, least_pause)
        self.kept = list(range(self._protected, len(quiet)))
        self.pause_cut: list[int] = []
        self.speech_cut: list[int] = []

    def load(self) -> int:
        """Frames held, but for the longest pause (up to ``least_pause``)."""
        longest = max((len(run) for run in self._pauses()), default=0)
        return self._protected + len(self.kept) - min(longest, self._least)

    def shorten_pauses(self, bound: int) -> None:
        """Oldest pause first, each down to ``least_pause``, only while over ``bound``."""
        for run in self._pauses():
            over = self.load() - bound
            if over <= 0:
                return
            excess = min(len(run) - self._least, over)
            if excess > 0:
                cut = run[len(run) - excess:]  # the pause's end: its start follows the speech
                self.pause_cut.extend(cut)
                removed = set(cut)
                self.kept = [i for i in self.kept if i not in removed]

    def drop_oldest_speech(self) -> bool:
        """Drop the oldest frame of speech; ``False``: none is left."""
        for position, index in enumerate(self.kept):
            if not self._quiet[index]:
                del self.kept[position]
                self.speech_cut.append(index)
                return True
        return False

    def _pauses(self) -> list[list[int]]:
        """Runs of quiet frames among those kept, oldest first."""
        runs: list[list[int]] = []
        current: list[int] = []
        for index in self.kept:
            if self._quiet[index]:
                current.append(index)
            elif current:
                runs.append(current)
                current = []
        if current:
            runs.append(current)
        return runs
