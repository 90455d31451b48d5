"""Masks credentials in every log record before any handler formats it.

Two nets: exact values of registered secrets (the tokens in :mod:`bot.settings`,
session tokens handed out by Pinch) and shapes that are credentials whatever
their value (``Bearer ...`` headers, JWTs, Discord bot tokens, the token in a
Discord webhook or interaction URL). The filter is installed on handlers by
:func:`install`, so records from every library pass it.
"""

from __future__ import annotations

import collections
import logging
import re
import threading
from typing import Final

REDACTED: Final = "[redacted]"

# Shapes that are secret whatever their value.
_PATTERNS: Final = (
    # Authorization headers.
    re.compile(r"(?i)\b(bearer|bot)\s+[A-Za-z0-9._~+/=-]{8,}"),
    # JWTs (LiveKit tokens): three base64url parts, the first starting with '{"'.
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    # Discord bot tokens: base64 user id . timestamp . hmac.
    re.compile(r"\b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}\b"),
    # Webhook and interaction tokens in Discord URLs (discord.py's DEBUG request lines):
    # the transcript webhook's token is a lasting credential.
    re.compile(r"(/(?:webhooks|interactions)/\d+/)[A-Za-z0-9_.-]{8,}"),
)

_MIN_SECRET_LEN: Final = 6
_lock = threading.Lock()
# Value → how many holders registered it: a session token is released when its
# session ends, so the registry (scanned for every log record) holds only live ones.
_secrets: collections.Counter[str] = collections.Counter()


def register_secret(value: str) -> None:
    """Remember ``value`` so it is masked wherever it appears in a log line."""
    if len(value) >= _MIN_SECRET_LEN:
        with _lock:
            _secrets[value] += 1


def release_secret(value: str) -> None:
    """One holder of ``value`` is done with it; forgotten once every holder is."""
    with _lock:
        if value in _secrets:
            _secrets[value] -= 1
            if _secrets[value] <= 0:
                del _secrets[value]


def registered_secret_count() -> int:
    """How many distinct values are masked by value (for tests and metrics)."""
    with _lock:
        return len(_secrets)


def redact(text: str) -> str:
    """``text`` with every registered secret and credential-shaped token masked."""
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(_mask_match, text)
    return text


def _mask_match(match: re.Match[str]) -> str:
    whole = match.group(0)
    # Keep the scheme word of an Authorization header so logs stay readable.
    if match.re is _PATTERNS[0]:
        return f"{match.group(1)} {REDACTED}"
    if match.re is _PATTERNS[3]:  # keep the URL's path up to the token
        return f"{match.group(1)}{REDACTED}"
    return REDACTED if whole else whole


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (args merged in) and exception text, masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(handler: logging.Handler) -> None:
    """Attach the redacting filter to ``handler`` once."""
    if not any(isinstance(f, RedactingFilter) for f in handler.filters):
        handler.addFilter(RedactingFilter())


def configure_logging(level: str | int = "INFO") -> logging.Handler:
    """Root logging to stderr with redaction; returns the handler it installed."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    install(handler)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
