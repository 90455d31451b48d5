"""Per-channel and per-server interpretation settings, and how they combine.

A :class:`ConfigLayer` is what one scope (a voice channel, or the whole server)
says; ``None`` means "not set here". :func:`resolve` stacks the layers in the
order of precedence — command option > channel > server > built-in default — and
keeps where each value came from, so ``/interpret config`` can show it.

Values are stored already normalised (language codes through
:func:`bot.languages.normalize_language`, voices and modes from the fixed sets
below); :func:`validate_layer` is the one place that checks them, used both
when a command writes a layer and when the store reads one back.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from bot.languages import normalize_language
from bot.log_privacy import shown_options
from bot.pinch.options import MAX_CONTEXT_CHARS, ContextTooLong, clean_context

VOICES: Final = ("clone", "female", "male")
MODES: Final = ("per-speaker", "mixed", "pair")


class ConfigError(ValueError):
    """A configuration value is out of range; the message is fit for a user."""


class Source(enum.Enum):
    """Where an effective value came from."""

    OPTION = "command option"
    CHANNEL = "channel"
    SERVER = "server"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class ConfigLayer:
    """One scope's settings; ``None`` = not set at this scope."""

    target_language: str | None = None
    source_language: str | None = None
    voice: str | None = None
    mode: str | None = None
    transcript_channel_id: int | None = None
    play_audio: bool | None = None
    post_transcripts: bool | None = None
    live_captions: bool | None = None
    """Interim text in the transcript channel while people speak."""
    idle_leave_s: int | None = None
    """Seconds without humans in the voice channel before the bot leaves."""
    max_run_minutes: int | None = None
    """A run stops after this many minutes; 0 = no cap."""
    max_speakers: int | None = None
    """Concurrent speaker sessions (each a billed Pinch session)."""
    manager_role_id: int | None = None
    """Members with this role may start, stop and configure, like Manage Channels."""
    retention_days: int | None = None
    """Server scope only: days stored transcript segments are kept."""
    context: str | None = field(default=None, repr=False)
    """Names and jargon sent with WebSocket sessions (at most ``MAX_CONTEXT_CHARS``);
    never logged, so no ``repr`` shows it."""
    caption_languages: str | None = None
    """Caption languages every run here serves, comma-separated codes (``fr-FR,de-DE``;
    at most :data:`MAX_CAPTION_LIST`): each a text-only session per speaker and a thread."""
    max_caption_languages: int | None = None
    """Caption languages served at once at most (0 turns captions off)."""

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in dataclasses.fields(self))

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


FIELDS: Final = tuple(f.name for f in dataclasses.fields(ConfigLayer))
SERVER_ONLY: Final = frozenset({"retention_days"})

DEFAULTS: Final[Mapping[str, Any]] = MappingProxyType({
    "target_language": None,  # no sensible default: `start` asks for one
    "source_language": "en-US",
    "voice": "clone",
    "mode": "per-speaker",
    "transcript_channel_id": None,  # the channel `start` was run in
    "play_audio": True,
    "post_transcripts": True,
    "live_captions": False,
    "idle_leave_s": 60,
    "max_run_minutes": 240,
    "max_speakers": 8,
    "manager_role_id": None,
    "retention_days": 7,
    "context": None,
    "caption_languages": None,
    "max_caption_languages": 3,
})

#: Inclusive ranges of the numeric settings.
RANGES: Final[Mapping[str, tuple[int, int]]] = MappingProxyType({
    "idle_leave_s": (10, 3600),
    "max_run_minutes": (0, 24 * 60),
    "max_speakers": (1, 25),
    "retention_days": (0, 365),
    "max_caption_languages": (0, 10),
})

MAX_CAPTION_LIST: Final = 10
"""The most languages ``caption_languages`` may name."""


def caption_language_list(text: str | None) -> tuple[str, ...]:
    """A ``caption_languages`` value (``"fr, de-DE"``) as normalised codes, in order,
    without repeats; :class:`~bot.languages.UnknownLanguage` for a code not supported."""
    if not text:
        return ()
    parts = (part.strip() for part in text.replace(";", ",").split(","))
    return tuple(dict.fromkeys(normalize_language(part) for part in parts if part))


def validate_layer(layer: ConfigLayer) -> ConfigLayer:
    """``layer`` with languages normalised; raises :class:`ConfigError` for bad values."""
    values = layer.as_dict()
    for name in ("target_language", "source_language"):
        if values[name] is not None:
            try:
                values[name] = normalize_language(values[name])
            except ValueError as exc:
                raise ConfigError(str(exc)) from exc
    if values["voice"] is not None:
        values["voice"] = str(values["voice"]).strip().lower()
        if values["voice"] not in VOICES:
            raise ConfigError(f"Voice must be one of {', '.join(VOICES)}.")
    if values["mode"] is not None:
        values["mode"] = str(values["mode"]).strip().lower()
        if values["mode"] not in MODES:
            raise ConfigError(f"Mode must be one of {', '.join(MODES)}.")
    if values["caption_languages"] is not None:
        try:
            languages = caption_language_list(values["caption_languages"])
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        if not languages:
            raise ConfigError("Name at least one language in `caption_languages` (or clear "
                              "it with `clear:caption_languages`).")
        if len(languages) > MAX_CAPTION_LIST:
            raise ConfigError(f"`caption_languages` may name at most {MAX_CAPTION_LIST} "
                              "languages.")
        values["caption_languages"] = ",".join(languages)
    try:
        values["context"] = clean_context(values["context"])
    except ContextTooLong as exc:
        raise ConfigError(f"The context is {exc.length} characters long; at most "
                          f"{MAX_CONTEXT_CHARS} are allowed.") from None
    for name, (low, high) in RANGES.items():
        value = values[name]
        if value is not None and not low <= int(value) <= high:
            raise ConfigError(f"{name.replace('_', ' ')} must be between {low} and {high}.")
    return ConfigLayer(**values)


@dataclass(frozen=True, slots=True)
class Effective:
    """Resolved settings with the provenance of each value."""

    values: Mapping[str, Any]
    sources: Mapping[str, Source]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def source(self, name: str) -> Source:
        return self.sources[name]

    def __repr__(self) -> str:  # the context is never shown (a repr may reach a log line)
        return f"Effective(values={shown_options(self.values)!r}, sources={self.sources!r})"


def resolve(server: ConfigLayer, channel: ConfigLayer,
            options: ConfigLayer | None = None) -> Effective:
    """Stack the layers: option > channel > server > default, per setting."""
    stack = ((Source.OPTION, options or ConfigLayer()), (Source.CHANNEL, channel),
             (Source.SERVER, server))
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for name in FIELDS:
        values[name], sources[name] = DEFAULTS[name], Source.DEFAULT
        for source, layer in stack:
            if name in SERVER_ONLY and source is not Source.SERVER:
                continue
            value = getattr(layer, name)
            if value is not None:
                values[name], sources[name] = value, source
                break
    return Effective(MappingProxyType(values), MappingProxyType(sources))
