"""Pinch real-time translation API: session client, errors, retry policy, transcripts.

The bot's only translation backend, reached one of two ways. :class:`PinchClient`
creates LiveKit-API sessions over REST (:mod:`bot.pinch.client`; the room itself is
LiveKit's business); :class:`~bot.pinch.realtime.PinchRealtimeClient` requests
WebSocket-API sessions (:mod:`bot.pinch.realtime`, the wire in
:mod:`bot.pinch.ws_protocol`). Transcripts of both are decoded by
:class:`TranscriptParser`; :class:`~bot.pinch.options.SessionOptions` is what either
session is opened with.
"""

from bot.pinch.client import DEFAULT_VOICE, PROBE_TARGET_LANGUAGE, VOICE_TYPES, PinchClient
from bot.pinch.errors import (
    AuthenticationError,
    BadResponseError,
    ClientClosedError,
    InvalidLanguageError,
    InvalidRequestError,
    NoCreditsError,
    NotEntitledError,
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
    "NotEntitledError",
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
