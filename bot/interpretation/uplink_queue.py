"""The microphone timeline of one link: speech frames and the pauses between them.

Pinch's segmenter ends a segment after ~500 ms of pause *in the audio*, so a pause
is as much a part of what a link sends as the speech around it. While the link is
live the queue is empty and a pause is sent as padding at real-time pace: the
member's next word cancels what is left of it, so the pause sent is the pause
spoken. While no room is up (a session opening, a reconnect) speech waits here, and
a pause that ended while waiting is written into the queue as silence of its real
length (capped at the requested padding), so a backlog drained later keeps its
utterances apart and never merges them into one segment.

Bounded delay: once the session is live (:meth:`UplinkQueue.go_live`) the queue
holds at most ``live_bound`` frames (plus the one pause that must still end a
segment): past it, pauses are shortened, then the oldest speech is dropped (the
policy is :func:`~bot.interpretation.backlog.plan_cut`), each counted. What waited
while the session was opening is never cut — no word of a first utterance is lost —
and the delay it adds is allowed to stay (a real-time transport cannot make it up)
until it shrinks by itself: a pause shortened, a silence longer than the backlog.
So speech is dropped only past the bound *above the least backlog held since the
session went live*; and once speech must be dropped anyway (the transport cannot
keep up) that limit comes down to the bound as fast as the protected frames leave.

Pure: the time is a parameter; the link's sender task is the only reader.
Bounded: beyond ``capacity`` frames the oldest is dropped and counted.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass

from bot.interpretation.backlog import Cut, plan_cut


@dataclass(slots=True)
class _Pause:
    started_at: float
    frames: int
    sent: int = 0


@dataclass(slots=True)
class _Frame:
    at: float
    chunk: bytes
    quiet: bool | None = None
    """Part of a pause? Looked at only when a live backlog must be cut."""


@dataclass(slots=True)
class UplinkQueueStats:
    dropped_frames: int = 0
    """Frames lost because the queue was full (oldest first)."""
    padding_sent: int = 0
    """Silent frames sent at the end of an utterance while nothing else waited."""
    padding_queued: int = 0
    """Silent frames written into a backlog to keep a pause of its real length."""
    padding_cancelled: int = 0
    """Padding never sent because the member spoke again first."""
    pause_shortened: int = 0
    """Frames of pause cut from a live backlog past its bound."""
    speech_dropped: int = 0
    """Frames of speech dropped from a live backlog past its bound (the oldest first)."""


@dataclass(frozen=True, slots=True)
class Trimmed:
    """What one push cost a live backlog past its bound, in frames."""

    pause: int = 0
    speech: int = 0


_NOTHING = Trimmed()


def _never_quiet(_chunk: bytes) -> bool:
    return False


class UplinkQueue:
    """Frames waiting for the room.

    In: ``push_speech`` and ``end_of_speech``; out: ``pop`` and ``take_padding``.
    ``go_live``/``hold``: the session takes audio now (the bound applies) / not yet.
    """

    def __init__(self, frame_s: float, capacity: int, silence: bytes, *,
                 live_bound: int | None = None, least_pause: int = 0,
                 is_quiet: Callable[[bytes], bool] = _never_quiet) -> None:
        if frame_s <= 0 or capacity < 1:
            raise ValueError("frame_s must be positive and capacity at least 1")
        if live_bound is not None and live_bound < 1:
            raise ValueError("live_bound must be at least 1 frame")
        self.stats = UplinkQueueStats()
        self._frame_s = frame_s
        self._silence = silence
        self._frames: collections.deque[_Frame] = collections.deque(maxlen=capacity)
        self._pause: _Pause | None = None
        self._bound = live_bound
        self._least_pause = least_pause
        self._is_quiet = is_quiet
        self._live = False
        self._protected = 0
        """Frames at the head that waited for the session to open: never cut."""
        self._limit = 0
        """Frames the live backlog may hold before speech is dropped: the bound above the
        least it held since it went live (its delay may shrink, never grow)."""
        self._dropping = False
        """Speech had to be dropped since the session went live: the limit comes down."""
        self.load = 0
        """Live: frames held after the last push but for the one pause that ends an
        utterance (an upper bound while within the bound: no pause is looked for)."""

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def idle(self) -> bool:
        """Nothing waits to be sent, not even a pause."""
        return not self._frames and self._pause is None

    @property
    def protected(self) -> int:
        """Frames at the head that waited while the session was opening (never cut)."""
        return self._protected

    def go_live(self) -> None:
        """The session takes audio now: from here the backlog is bounded. What waits
        already is kept whole (and the delay it adds allowed, see the module docstring)."""
        self._live = True
        self._protected = len(self._frames)
        self._limit = self._protected + (self._bound or 0)
        self._dropping = False

    def hold(self) -> None:
        """The session does not take audio (opening, resting, gone): keep everything."""
        self._live = False
        self._protected = 0

    def push_speech(self, chunks: list[bytes], now: float) -> Trimmed:
        """Frames of speech pushed at ``now``; first closes a pending pause at its real length."""
        pause = self._pause
        if pause is not None:
            self._pause = None
            elapsed = int((now - pause.started_at) / self._frame_s + 1e-9)
            missing = min(pause.frames, elapsed) - pause.sent
            for _ in range(max(0, missing)):
                self._append(now, self._silence)
            self.stats.padding_queued += max(0, missing)
            self.stats.padding_cancelled += pause.frames - pause.sent - max(0, missing)
        for chunk in chunks:
            self._append(now, chunk)
        return self._trim()

    def end_of_speech(self, tail: list[bytes], pad_frames: int, now: float) -> Trimmed:
        """The utterance ended at ``now``: queue its ``tail``, then a pause of ``pad_frames``."""
        for chunk in tail:
            self._append(now, chunk)
        if self._pause is not None:  # two ends in a row: the first pause is moot
            self.stats.padding_cancelled += self._pause.frames - self._pause.sent
        self._pause = _Pause(now, pad_frames) if pad_frames > 0 else None
        return self._trim()

    def pop(self) -> tuple[float, bytes] | None:
        """The oldest waiting frame with the time it was pushed, or ``None``."""
        if not self._frames:
            return None
        if self._protected:
            self._protected -= 1
        frame = self._frames.popleft()
        return frame.at, frame.chunk

    def take_padding(self) -> bool:
        """Whether to send one frame of padding now (only when no frame waits)."""
        pause = self._pause
        if pause is None or self._frames:
            return False
        pause.sent += 1
        self.stats.padding_sent += 1
        if pause.sent >= pause.frames:
            self._pause = None
        return True

    def _append(self, at: float, chunk: bytes) -> None:
        if len(self._frames) == self._frames.maxlen:
            self.stats.dropped_frames += 1  # the deque drops the oldest on append
            self._protected = max(0, self._protected - 1)
        self._frames.append(_Frame(at, chunk, True if chunk is self._silence else None))

    def _trim(self) -> Trimmed:
        bound = self._bound
        held = len(self._frames)
        self.load = held
        if not self._live or bound is None:
            return _NOTHING
        if held <= self._limit and (held <= bound or held - self._protected <= self._least_pause):
            # Within the limit and no pause long enough to shorten: nothing to cut.
            self._limit = max(bound, min(self._limit, held + bound))
            return _NOTHING
        cut = self._plan()
        if cut.speech and not self._dropping:
            # Words must go: the transport cannot keep up. What waited for the session
            # stays; beyond it, the backlog comes down to the bound.
            self._dropping = True
        if self._dropping and self._protected + bound < self._limit:
            self._limit = self._protected + bound
            cut = self._plan()
        if cut:
            drop = set(cut.pause) | set(cut.speech)
            self._frames = collections.deque(
                (entry for i, entry in enumerate(self._frames) if i not in drop),
                maxlen=self._frames.maxlen)
            self.stats.pause_shortened += len(cut.pause)
            self.stats.speech_dropped += len(cut.speech)
        self.load = cut.load
        self._limit = max(bound, min(self._limit, cut.load + bound))
        return Trimmed(len(cut.pause), len(cut.speech)) if cut else _NOTHING

    def _plan(self) -> Cut:
        assert self._bound is not None
        quiet = []
        for i, frame in enumerate(self._frames):
            if frame.quiet is None and i >= self._protected:  # protected: never cut
                frame.quiet = self._is_quiet(frame.chunk)
            quiet.append(bool(frame.quiet))
        return plan_cut(quiet,
                        protected=self._protected, bound=self._bound, limit=self._limit,
                        least_pause=self._least_pause)
