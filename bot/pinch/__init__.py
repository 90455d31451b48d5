"""Pinch real-time translation API: session client, errors, retry policy, transcripts.

The bot's only translation backend. :class:`PinchClient` creates sessions over
REST (:mod:`bot.pinch.client`); the room itself is LiveKit's business, and the
data packets Pinch sends there are decoded by :class:`TranscriptParser`.
"""

from bot.pinch.client import DEFAULT_VOICE, PROBE_TARGET_LANGUAGE, VOICE_TYPES, PinchClient
from bot.pinch.errors import (
    AuthenticationError,
    BadResponseError,
    ClientClosedError,
    InvalidLanguageError,
    InvalidRequestError,
    NoCreditsError,
    PinchError,
    PinchNetworkError,
    PinchRequestError,
    PinchTimeoutError,
    PinchTransportError,
    RateLimitError,
    ServerError,
    UnexpectedStatusError,
)
from bot.pinch.retry import NO_RETRY, RetryPolicy
from bot.pinch.session import PinchSession
from bot.pinch.transcripts import MAX_MESSAGE_BYTES, TranscriptEvent, TranscriptParser

__all__ = [
    "DEFAULT_VOICE",
    "MAX_MESSAGE_BYTES",
    "NO_RETRY",
    "PROBE_TARGET_LANGUAGE",
    "VOICE_TYPES",
    "AuthenticationError",
    "BadResponseError",
    "ClientClosedError",
    "InvalidLanguageError",
    "InvalidRequestError",
    "NoCreditsError",
    "PinchClient",
    "PinchError",
    "PinchNetworkError",
    "PinchRequestError",
    "PinchSession",
    "PinchTimeoutError",
    "PinchTransportError",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "TranscriptEvent",
    "TranscriptParser",
    "UnexpectedStatusError",
]
