"""The settings of one Pinch session, whichever transport carries it.

A :class:`SessionOptions` is what a link asks Pinch for: languages, voice, whether
translated speech is wanted at all (``audio_output``) and an optional ``context``
text that biases recognition and translation toward names and jargon. The LiveKit
API of the seed takes only the first three (its translated track is then simply not
played); the WebSocket API takes them all (``bot.pinch.ws_protocol`` maps them).

The context is what a server's members talk about, so it is never shown:
``repr`` leaves it out and nothing in the bot logs it. Its length is bounded here
(:data:`MAX_CONTEXT_CHARS`), the one limit every caller meets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from bot.pinch.client import DEFAULT_VOICE

MAX_CONTEXT_CHARS: Final = 500
"""Our bound on the context text. Pinch publishes none; 500 characters keep the
session request (a URL on the WebSocket API) far below common 8 KB URL limits even
when every character needs percent-encoding."""


class ContextTooLong(ValueError):
    """The context text is longer than :data:`MAX_CONTEXT_CHARS`."""

    def __init__(self, length: int) -> None:
        super().__init__(f"the context is {length} characters long; at most "
                         f"{MAX_CONTEXT_CHARS} are allowed")
        self.length = length


def clean_context(text: str | None) -> str | None:
    """``text`` stripped, ``None`` when empty; :class:`ContextTooLong` beyond the bound."""
    if text is None:
        return None
    cleaned = text.strip()
    if not cleaned:
        return None
    if len(cleaned) > MAX_CONTEXT_CHARS:
        raise ContextTooLong(len(cleaned))
    return cleaned


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """What one Pinch session is opened with (and, on the WebSocket API, updated to)."""

    source_language: str
    target_language: str
    voice_type: str = DEFAULT_VOICE
    audio_output: bool = True
    """False: transcripts only (``audioOutputEnabled=false`` on the WebSocket API)."""
    context: str | None = field(default=None, repr=False)
    """Free text about the session; never logged, at most :data:`MAX_CONTEXT_CHARS`."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "context", clean_context(self.context))
