"""Pair mode: a channel with two languages, each member interpreted into the other one.

Two groups, two languages (English and Spanish speakers in one channel):
interpreting everyone into Spanish leaves the English side with nothing. In pair
mode the run's ``source_language`` and ``target_language`` are the *pair*
(first, second) and every member has a :class:`Direction` of their own:

- a member who set their language (``MemberPreference.source_language``) is
  taken at their word: the first language goes into the second, the second
  into the first, and any other language into the first. Detection never
  re-routes them;
- any other member starts as first → second. The interpreter's
  ``language_detected`` on their first final transcript that carries a language
  we know decides (:meth:`PairDirections.observe`): the first language keeps
  the direction, the second reverses it, any other goes into the first
  language. The decision is kept for the rest of the run, and offered to the
  member to save (:attr:`PairDecision.language`).

Languages are compared by their primary subtag (``es``, ``es-ES`` and ``es-MX``
are one language to the ear and to detection), so the two languages of a pair
must differ in it. Only per-speaker routing can have directions: one mixed
session hears everybody at once, and cannot say each side in the other's
language (:func:`check_pair` refuses it).

Pure and synchronous: the run (:mod:`bot.interpretation.run`) owns one
:class:`PairDirections`, asks it for a member's direction whenever it opens
their link, and feeds it the final originals of members still undecided.
Memory: one decision per member who spoke during the run.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from bot.languages import SUPPORTED, UnknownLanguage, normalize_language, primary_language

MIXED_REFUSAL: Final = (
    "Pair mode needs one interpreter session per speaker: in mixed mode one session hears "
    "everyone at once and cannot put each side into the other's language. Use per-speaker "
    "routing with pair mode, or turn pair mode off.")


class PairModeError(ValueError):
    """A pair-mode configuration that cannot work; the message is fit for a Discord user."""


@dataclass(frozen=True, slots=True)
class PairConfig:
    """Pair mode switched on; the pair itself is the run's source and target language."""

    replay_ms: int = 4_000
    """What a member said before their direction was known and found wrong is said
    again to their reversed session: at most this much (the latest), so it fits the
    link's uplink queue (5 s) with room for what they say meanwhile."""

    def __post_init__(self) -> None:
        if self.replay_ms < 0:
            raise ValueError("replay_ms must not be negative")


@dataclass(frozen=True, slots=True)
class Direction:
    """What a member's speech is interpreted from and into."""

    source: str
    target: str

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"


class Outcome(enum.Enum):
    """Which language of the pair a member speaks."""

    FIRST = "first"
    """The first language: first → second, as every member starts."""
    SECOND = "second"
    """The second language: their direction is reversed (second → first)."""
    OTHER = "other"
    """Neither: interpreted into the first language."""


@dataclass(frozen=True, slots=True)
class PairDecision:
    """A member's direction, decided from what the interpreter heard them speak."""

    member_id: int
    outcome: Outcome
    direction: Direction
    detected: str
    """The language as the interpreter reported it (``es-ES``, or just ``es``)."""
    at: float
    """``time.monotonic()`` of the decision."""

    @property
    def language(self) -> str:
        """The language to offer the member to save (``/interpret me language:``)."""
        return self.direction.source

    @property
    def changed(self) -> bool:
        """Whether the member's session had to be re-opened (they did not speak the first)."""
        return self.outcome is not Outcome.FIRST


def check_pair(first: str, second: str, *, mixed: bool) -> None:
    """Raise :class:`PairModeError` unless ``first`` ↔ ``second`` can run as a pair."""
    if mixed:
        raise PairModeError(MIXED_REFUSAL)
    if primary_language(first) == primary_language(second):
        raise PairModeError(
            f"The two languages of a pair must be different languages: {first} and {second} "
            "are the same language, so nobody's direction could be told apart.")


def recognised(language: str | None) -> str | None:
    """The supported code for a detected language (``es`` → ``es-ES``), or ``None``."""
    if not language:
        return None
    try:
        return normalize_language(language)
    except UnknownLanguage:
        return None


class PairDirections:
    """Members' directions in one pair-mode run (pure; see the module docstring)."""

    def __init__(self, first: str, second: str, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.first = first
        self.second = second
        self._clock = clock
        self._decisions: dict[int, PairDecision] = {}

    @property
    def decisions(self) -> Mapping[int, PairDecision]:
        """Members whose direction detection decided, and how (read-only view)."""
        return MappingProxyType(self._decisions)

    def outcome_of(self, language: str) -> Outcome:
        primary = primary_language(language)
        if primary == primary_language(self.first):
            return Outcome.FIRST
        if primary == primary_language(self.second):
            return Outcome.SECOND
        return Outcome.OTHER

    def direction_for(self, member_id: int, preferred: str | None) -> Direction:
        """The direction of the member's next session (their preference wins)."""
        if preferred:
            target = self.second if self.outcome_of(preferred) is Outcome.FIRST else self.first
            return Direction(preferred, target)
        decision = self._decisions.get(member_id)
        if decision is not None:
            return decision.direction
        return Direction(self.first, self.second)

    def undecided(self, member_id: int, preferred: str | None) -> bool:
        """Whether detection may still change the member's direction."""
        return not preferred and member_id not in self._decisions

    def observe(self, member_id: int, detected: str | None) -> PairDecision | None:
        """A final original of an undecided member: the decision, once (else ``None``).

        A transcript without a language, or with one we do not know, decides nothing.
        """
        if member_id in self._decisions:
            return None
        code = recognised(detected)
        if code is None or detected is None:
            return None
        outcome = self.outcome_of(code)
        if outcome is Outcome.FIRST:
            direction = Direction(self.first, self.second)
        elif outcome is Outcome.SECOND:
            direction = Direction(self.second, self.first)
        else:
            direction = Direction(code, self.first)
        decision = PairDecision(member_id, outcome, direction, detected.strip(), self._clock())
        self._decisions[member_id] = decision
        return decision

    def other_language_notice(self, member_id: int, language: str) -> str:
        """The channel's sentence for a member who speaks neither language of the pair."""
        code = recognised(language) or language
        name = SUPPORTED.get(code, code)
        return (f"<@{member_id}> speaks {name} ({code}), which is not one of this channel's "
                f"two languages ({self.first} ↔ {self.second}): they are interpreted into "
                f"{SUPPORTED.get(self.first, self.first)} ({self.first}) for the rest of this run.")
