"""What the engine says about a run, and what it reads per member: one vocabulary.

Every event names its run (``run_id``, minted once when the start was accepted) as
well as its channel, so nothing downstream keys a run's state by a channel that
may already hold the next run:

- :class:`AttributedTranscript`: a transcript event with its member and utterance (and
  its caption language, when it comes from a text-only caption session);
- :class:`RunStatus`: the run's state, a link's state, a notice for the channel, a
  pair-mode decision;
- :class:`MemberPreference` (through a :class:`PreferenceLookup`): what a member
  chose, read on the audio path without I/O.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Protocol

from bot.interpretation.link import LinkStatus
from bot.interpretation.pair_mode import Direction, PairDecision
from bot.pinch import TranscriptEvent


@dataclass(frozen=True, slots=True)
class MemberPreference:
    """What one member chose; ``None`` fields fall back to the channel's settings."""

    opted_out: bool = False
    source_language: str | None = None
    voice_type: str | None = None
    caption_language: str | None = None
    """The language they read: the run serves it as a caption language while they are
    in its voice channel (``None``: no captions of their own)."""


class PreferenceLookup(Protocol):
    def __call__(self, member_id: int) -> MemberPreference: ...


def no_preferences(member_id: int) -> MemberPreference:
    return MemberPreference()


@dataclass(frozen=True, slots=True)
class AttributedTranscript:
    """A transcript event with the member it belongs to (``None`` if unknown)."""

    channel_id: int
    member_id: int | None
    event: TranscriptEvent
    link: str
    utterance: int = 0
    """Order of the utterance within its link; an original and its translation share it."""
    direction: Direction | None = None
    """Pair mode: what this utterance was interpreted from and into (it varies by
    member); ``None`` otherwise (the run's own source and target)."""
    run_id: str = ""
    """The run it belongs to (the id minted when ``start`` was accepted)."""
    caption_language: str | None = None
    """From a text-only caption session into this language (its own thread);
    ``None``: from the member's interpreted session (the run's thread)."""


class RunState(enum.Enum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class RunStatus:
    channel_id: int
    state: RunState
    reason: str = ""
    link: LinkStatus | None = None
    at: float = field(default_factory=time.monotonic)
    member_id: int | None = None
    """The member concerned, when the status is about one member's link."""
    notice: str | None = None
    """One sentence for the channel (what happened and what to do), or ``None``."""
    pair: PairDecision | None = None
    """Pair mode: the member's direction was just decided from what they speak."""
    run_id: str = ""
    """The run it belongs to (the id minted when ``start`` was accepted)."""
