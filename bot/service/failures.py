"""Turning an engine failure that retrying cannot fix into one message for the channel.

The engine reports failures through ``on_interpretation_status``; most heal on
their own (reconnects, rate limits) and are only remembered as the run's last
error. Those that cannot — Pinch refusing the language, the bot's token, or an
account without credits — need a person to act, so each kind is announced once
per run, saying what to do.
"""

from __future__ import annotations

from bot.pinch import (
    AuthenticationError,
    InvalidLanguageError,
    InvalidRequestError,
    NoCreditsError,
    PinchError,
)


def unfixable_kind(error: BaseException | None) -> str | None:
    """A key naming the kind of an error retrying cannot fix (``None`` if it can be)."""
    if not isinstance(error, PinchError) or error.retryable:
        return None
    if isinstance(error, InvalidLanguageError):
        return "invalid_language"
    if isinstance(error, AuthenticationError):
        return "invalid_token"
    if isinstance(error, NoCreditsError):
        return "no_credits"
    if isinstance(error, InvalidRequestError):
        return "invalid_request"
    return None


def advice(kind: str, *, source: str, target: str) -> str:
    """What the channel is told, once per run, for an unfixable ``kind``."""
    if kind == "invalid_language":
        return (f"The translation service does not accept {source} → {target}. "
                "Pick another language with `/interpret config` (or, for your own speech, "
                "`/interpret me language`), then speak again.")
    if kind == "invalid_token":
        return ("The translation service refused the bot's API token, so nothing can be "
                "interpreted. The bot's owner must set a valid PINCH_API_TOKEN and restart "
                "the bot.")
    if kind == "no_credits":
        return ("The translation service account has no credits left, so nothing can be "
                "interpreted. The bot's owner must add credits to the Pinch account, then "
                "start again.")
    return ("The translation service rejected the session settings. Check the languages "
            "and voice with `/interpret config`, then start again.")
