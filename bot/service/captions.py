"""Which caption languages a run serves, from who is in its voice channel (pure).

A run always shows its own languages (its target; in pair mode both languages of
the pair) in its own thread. On top of that it may serve *caption languages*, each
one a text-only Pinch session per speaker and a thread of its own. A caption
language is wanted while at least one member present in the voice channel asked
for it (``/interpret me captions:``) or while the channel's configured list names
it. :class:`CaptionLanguages` turns "who is here and what they read" into the
languages served:

- a wanted language is served at once if fewer than ``max_languages`` are served
  (configured languages first, then members' in the order they come); beyond the
  cap it is *refused* (reported once while it stays refused);
- a served language nobody wants any more stays served for ``grace_s`` (someone
  stepping out for a minute does not close and reopen every speaker's session), then
  is dropped; a member who wants it back within the grace keeps it going.

Time is a parameter (``now``, monotonic seconds), so the owner decides the clock
and tests need no waiting. :meth:`CaptionLanguages.refusal` is the sentence for a
member whose new language would pass the cap, naming the languages available.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.languages import native_name

DEFAULT_GRACE_S = 60.0
"""How long a caption language nobody present wants any more is still served."""


@dataclass(frozen=True, slots=True)
class CaptionPolicy:
    own: tuple[str, ...]
    """The run's own languages: always in its thread, never a caption language."""
    configured: tuple[str, ...] = ()
    """The channel's (or server's) ``caption_languages``: wanted for the whole run."""
    max_languages: int = 3
    """Caption languages served at once at most (0: captions are off)."""
    grace_s: float = DEFAULT_GRACE_S


@dataclass(frozen=True, slots=True)
class CaptionChange:
    """What one :meth:`CaptionLanguages.update` changed."""

    opened: tuple[str, ...] = ()
    closed: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()
    """Wanted languages left out by the cap (each reported once while it stays out)."""

    def __bool__(self) -> bool:
        return bool(self.opened or self.closed)


@dataclass(slots=True)
class _Served:
    unwanted_since: float | None = None
    askers: tuple[int, ...] = field(default_factory=tuple)


class CaptionLanguages:
    def __init__(self, policy: CaptionPolicy) -> None:
        self.policy = policy
        self._served: dict[str, _Served] = {}
        self._refused: set[str] = set()

    @property
    def served(self) -> tuple[str, ...]:
        """The caption languages served now, in the order they were opened."""
        return tuple(self._served)

    def askers(self, language: str) -> tuple[int, ...]:
        """Members present who asked for ``language`` (at the last update)."""
        served = self._served.get(language)
        return () if served is None else served.askers

    def configured(self, language: str) -> bool:
        return language in self.policy.configured

    def in_grace(self, language: str) -> bool:
        """Served, but nobody wants it any more: it closes when the grace runs out."""
        served = self._served.get(language)
        return served is not None and served.unwanted_since is not None

    def update(self, wants: Mapping[int, str | None], now: float) -> CaptionChange:
        """``wants``: each member present → the caption language they read (or ``None``)."""
        askers: dict[str, list[int]] = {}
        for member, language in wants.items():
            if language is not None and language not in self.policy.own:
                askers.setdefault(language, []).append(member)
        wanted = [lang for lang in self.policy.configured if lang not in self.policy.own]
        wanted += [lang for lang in askers if lang not in wanted]
        closed: list[str] = []
        for language, served in list(self._served.items()):
            served.askers = tuple(askers.get(language, ()))
            if language in wanted:
                served.unwanted_since = None
            elif served.unwanted_since is None:
                served.unwanted_since = now
            elif now - served.unwanted_since >= self.policy.grace_s:
                del self._served[language]
                closed.append(language)
        opened: list[str] = []
        refused: list[str] = []
        for language in wanted:
            if language in self._served:
                continue
            if len(self._served) < self.policy.max_languages:
                self._served[language] = _Served(askers=tuple(askers.get(language, ())))
                opened.append(language)
            elif language not in self._refused:
                refused.append(language)
        self._refused = {lang for lang in wanted if lang not in self._served}
        return CaptionChange(tuple(opened), tuple(closed), tuple(refused))

    def next_deadline(self) -> float | None:
        """When the next language in its grace closes (``None``: none is)."""
        ends = [s.unwanted_since + self.policy.grace_s for s in self._served.values()
                if s.unwanted_since is not None]
        return min(ends, default=None)

    def admits(self, language: str) -> bool:
        """Whether a member present asking for ``language`` would be served."""
        return (language in self.policy.own or language in self._served
                or len(self._served) < self.policy.max_languages)

    def available(self) -> tuple[str, ...]:
        """The languages a member can read now: the run's own, then the captions."""
        return tuple(dict.fromkeys((*self.policy.own, *self._served)))

    def refusal(self, language: str) -> str:
        """The sentence for a member whose ``language`` would pass the cap."""
        cap = self.policy.max_languages
        return (f"{describe(language)} cannot be added: this channel shows at most {cap} "
                f"caption language{'s' if cap != 1 else ''} besides its own. Available now: "
                f"{', '.join(describe(lang) for lang in self.available())}.")


def describe(language: str) -> str:
    """``Français (fr-FR)``: the language as its readers name it, and its code."""
    return f"{native_name(language)} ({language})"

