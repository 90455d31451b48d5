"""Pinch's WebSocket API on the wire: every name, code and format the bot relies on.

The one place that knows what the WebSocket API looks like (PROTOCOLS.md §1b).
Its public reference documents the session request, the ``ready`` frame, the audio
formats, ``update_metadata``, ``correlation_id`` and the close codes; it does not
show the exact transcript ``type`` strings, the text and language field names,
timestamps, lifecycle event names or the error frame's shape. Every value here
that rests on such a guess is marked **ASSUMPTION** and listed, with this module
as the place to change, in ``docs/websocket-assumptions.md``.

Pure: encoding and classifying, no I/O.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from bot.pinch.errors import InvalidLanguageError, PinchError
from bot.pinch.options import SessionOptions
from bot.pinch.transcripts import (
    MAX_MESSAGE_BYTES,
    TranscriptEvent,
    TranscriptFields,
    TranscriptParser,
)

DEFAULT_BASE_URL: Final = "https://ws.startpinch.com"
SESSION_PATH: Final = "/v1/session"

UPLINK_RATE: Final = 16_000
"""Client → server: binary frames of PCM16 little-endian mono at 16 kHz (documented)."""
DOWNLINK_RATE: Final = 24_000
"""Server → client: binary frames of float32 little-endian mono at 24 kHz (documented)."""
TRAILING_SILENCE_MS: Final = 300.0
"""Zeros after the last word so the last segment finalises (documented as ~300 ms)."""

CLOSE_NORMAL: Final = 1000
CLOSE_TOKEN_EXPIRED: Final = 4401
"""The pre-signed URL's token expired: a new session is needed (documented)."""
CLOSE_SESSION_ENDED: Final = 4503
"""The session ended server-side: a new session is needed (documented)."""

READY_TYPE: Final = "ready"
UPDATE_METADATA_TYPE: Final = "update_metadata"
ERROR_TYPE: Final = "error"
"""ASSUMPTION: an error frame is ``{"type": "error", ...}``."""

FINALIZE_MODE: Final = "sentence"
"""One final transcript per sentence (documented option). The bot posts one message per
final utterance and pairs finals with translations; ``stable`` (the default) would send
several finals per segment as spans settle."""

TRANSCRIPT_FIELDS: Final = TranscriptFields(
    # ASSUMPTION: the type strings, ``text``, ``is_final`` and ``language_detected`` are
    # those of the LiveKit API's data packets; ``correlation_id`` is documented.
    kinds=MappingProxyType({
        "original_transcript": "original",
        "translated_transcript": "translated",
    }),
    # ASSUMPTION: a ``timestamp`` in unix seconds when present; the arrival time otherwise.
    timestamp_required=False,
    correlation="correlation_id",
)

# Documented voices; ``clone`` (the LiveKit API's default) is not offered here.
_VOICES: Final = ("male", "female")


def session_query(options: SessionOptions) -> dict[str, str]:
    """The query parameters of ``GET /v1/session`` for ``options``.

    ASSUMPTION: booleans are written ``true``/``false``. A ``clone`` voice is not
    sent (the WebSocket API lists only ``male`` and ``female``): the session gets
    the server's default voice.
    """
    query = {
        "sourceLanguage": options.source_language,
        "targetLanguage": options.target_language,
        "audioOutputEnabled": "true" if options.audio_output else "false",
        "finalizeMode": FINALIZE_MODE,
    }
    if options.voice_type in _VOICES:
        query["voiceType"] = options.voice_type
    if options.context:
        query["context"] = options.context
    return query


def update_metadata(options: SessionOptions) -> str:
    """The JSON text frame that moves a live session to ``options``' languages and voice.

    ASSUMPTION: its fields are named like the query parameters (the reference shows
    only ``{"type": "update_metadata", ...}``).
    """
    body: dict[str, Any] = {
        "type": UPDATE_METADATA_TYPE,
        "sourceLanguage": options.source_language,
        "targetLanguage": options.target_language,
    }
    if options.voice_type in _VOICES:
        body["voiceType"] = options.voice_type
    return json.dumps(body, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Ready:
    """``{"type": "ready"}``: the server listens; audio may flow."""


@dataclass(frozen=True, slots=True)
class ErrorFrame:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Other:
    """A frame the bot does not act on (segment lifecycle events, unknown types)."""

    type: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """Not a message at all (not JSON, not an object, too large); counted by the caller."""

    reason: str


ServerMessage = Ready | ErrorFrame | TranscriptEvent | Other | Rejected


def classify(text: str, parser: TranscriptParser) -> ServerMessage:
    """What a server text frame is. Transcripts go through ``parser`` (which counts its
    rejects and ignores); never raises."""
    if len(text) > MAX_MESSAGE_BYTES:  # characters ≤ bytes: a cheap first bound
        return Rejected("oversized")
    try:
        obj = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return Rejected("not_json")
    if not isinstance(obj, dict):
        return Rejected("not_object")
    kind = obj.get("type")
    if kind == READY_TYPE:
        return Ready()
    if kind == ERROR_TYPE:
        return _error_frame(obj)
    if isinstance(kind, str) and kind in parser.fields.kinds:
        event = parser.parse_decoded(obj)
        return event if event is not None else Rejected("transcript")
    return Other(kind if isinstance(kind, str) else "?")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _error_frame(obj: dict[str, Any]) -> ErrorFrame:
    # ASSUMPTION: ``code`` and ``message`` as strings, top level or under ``error``.
    inner = obj.get("error")
    source = inner if isinstance(inner, dict) else obj
    code = source.get("code")
    message = source.get("message")
    if not isinstance(message, str) and isinstance(inner, str):
        message = inner
    return ErrorFrame(code if isinstance(code, str) else "",
                      message if isinstance(message, str) else "")


def error_for_frame(frame: ErrorFrame) -> PinchError | None:
    """The failure an error frame stands for, or ``None`` when it is only reported.

    The reference documents one case: a target language that is not supported for
    speech output. ASSUMPTION: it is recognised by ``language`` in the code, or
    ``language`` with ``not supported``/``unsupported`` in the message, and it ends
    the session (retrying cannot fix it). Other error frames are logged and counted;
    the session goes on until the server closes it.
    """
    code = frame.code.lower()
    message = frame.message.lower()
    unsupported = "not supported" in message or "unsupported" in message
    if "language" in code or ("language" in message and unsupported):
        return InvalidLanguageError(
            frame.message or frame.code, code=frame.code or "invalid_language",
            user_message=("The translation service cannot speak this target language; "
                          "choose another, or turn translated speech off (text only)."))
    return None


def describe_close(code: int | None) -> str:
    """The status reason for a socket the server (or the network) closed."""
    if code == CLOSE_SESSION_ENDED:
        return "session ended by the server (4503)"
    if code == CLOSE_TOKEN_EXPIRED:
        return "session token expired (4401)"
    if code == CLOSE_NORMAL:
        return "websocket closed by the server"
    if code is None:
        return "websocket connection lost"
    return f"websocket closed (code {code})"


def valid_expires_in(value: Any) -> float | None:
    """``expires_in`` of a session answer as seconds, or ``None`` if it is not usable."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = float(value)
    if not math.isfinite(seconds) or not 0 < seconds <= 3600:
        return None
    return seconds
