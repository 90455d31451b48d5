"""The session request of the WebSocket API (``GET /v1/session``): query validation and answers.

Pure helpers the simulator's handler composes, like :mod:`~tests.fakes.pinch.http_api`
for the LiveKit API. The reference documents the parameters and their defaults
(PROTOCOLS.md §1b) and the statuses 401, 403 and 503 but not the error bodies: the
simulator answers ``{"error": {"code", "message"}}``, a shape the bot's client reads
for both APIs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Final

from aiohttp import web

from tests.fakes.pinch.http_api import error
from tests.fakes.pinch.records import SessionRequest

VOICES: Final = ("male", "female")
FINALIZE_MODES: Final = ("stable", "sentence")
MAX_CONTEXT_CHARS: Final = 2000  # the simulator's own bound (the service publishes none)


def _bool(value: str | None, default: bool) -> bool | None:
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    return None


def validate_query(query: Mapping[str, str],
                   languages: Collection[str]) -> SessionRequest | web.Response:
    """The request in ``query`` or the 400 answer to it."""
    source = query.get("sourceLanguage", "en")
    target = query.get("targetLanguage", "es")
    for role, value in (("source", source), ("target", target)):
        if value not in languages and not (role == "source" and value == "auto"):
            return error(400, "invalid_language", f"Unsupported {role}Language: {value}")
    voice = query.get("voiceType", "male")
    if voice not in VOICES:
        return error(400, "invalid_request", "voiceType must be male or female")
    audio = _bool(query.get("audioOutputEnabled"), True)
    if audio is None:
        return error(400, "invalid_request", "audioOutputEnabled must be true or false")
    if _bool(query.get("twoWay"), False) is None:
        return error(400, "invalid_request", "twoWay must be true or false")
    finalize = query.get("finalizeMode", "stable")
    if finalize not in FINALIZE_MODES:
        return error(400, "invalid_request", "finalizeMode must be stable or sentence")
    context = query.get("context")
    if context is not None and len(context) > MAX_CONTEXT_CHARS:
        return error(400, "invalid_request", "context is too long")
    return SessionRequest(source_language=source, target_language=target, voice_type=voice,
                          body=dict(query), audio_output=audio, context=context,
                          finalize_mode=finalize)


def unavailable() -> web.Response:
    return error(503, "capacity_exhausted", "No real-time capacity available, retry shortly")


def not_entitled() -> web.Response:
    return error(403, "not_entitled", "This key is not entitled to real-time translation")
