"""The HTTP face of the simulator: request validation and the documented answers.

Pure helpers the simulator's handler composes: :func:`validate` checks a decoded
body like the real API, :func:`error` builds both documented error shapes, and
:func:`fault_response` renders a scripted status the way the real service or a
proxy in front of it would.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from aiohttp import web

from tests.fakes.pinch.records import SessionRequest

VOICE_TYPES = ("clone", "female", "male")

_PLAIN_MESSAGES = {
    401: "Invalid or expired API token",
    402: "Insufficient credits",
    403: "Insufficient credits",
    429: "Too many requests",
}
_CODES = {
    400: "invalid_request",
    401: "invalid_token",
    429: "rate_limit_exceeded",
}
_PROXY_PAGE = "<html><head><title>{status}</title></head><body>{status} Bad Gateway</body></html>"


def error(status: int, code: str, message: str, *, plain: bool = False,
          headers: dict[str, str] | None = None) -> web.Response:
    """``{"error": {"code", "message"}}``, or ``{"error": message}`` when ``plain``."""
    body: dict[str, Any] = {"error": message if plain else {"code": code, "message": message}}
    return web.json_response(body, status=status, headers=headers)


def rate_limited(retry_after: float | None, *, plain: bool = False) -> web.Response:
    headers = {} if retry_after is None else {"Retry-After": _seconds(retry_after)}
    return error(429, "rate_limit_exceeded", "Too many requests", plain=plain, headers=headers)


def internal_error(*, plain: bool = False) -> web.Response:
    return error(500, "internal_error", "An internal error occurred", plain=plain)


def fault_response(status: int, retry_after: float | None, *, plain: bool) -> web.Response:
    """A scripted failure status, with the body the service (or its proxy) sends."""
    if status == 429:
        return rate_limited(retry_after, plain=plain)
    if status in (502, 503, 504):
        return web.Response(
            status=status, text=_PROXY_PAGE.format(status=status), content_type="text/html"
        )
    if status >= 500:
        return internal_error(plain=plain)
    if status in (402, 403):
        # The public SDK documents these only as plain-string errors.
        return error(status, "", _PLAIN_MESSAGES[status], plain=True)
    code = _CODES.get(status, "error")
    return error(status, code, _PLAIN_MESSAGES.get(status, f"Error {status}"), plain=plain)


def field(body: dict[str, Any], snake: str) -> Any:
    """``body[snake]``, or its camelCase spelling: the reference documents snake_case,
    Pinch's public SDK sends camelCase, and the service takes both."""
    if snake in body:
        return body[snake]
    head, *rest = snake.split("_")
    return body.get(head + "".join(part.title() for part in rest))


def validate(
    body: Any, languages: Collection[str], *, plain: bool = False
) -> SessionRequest | web.Response:
    """The request in ``body`` or the 400 the real API answers to it."""
    if not isinstance(body, dict):
        return error(400, "invalid_request", "Request body must be a JSON object", plain=plain)
    for role in ("source", "target"):
        value = field(body, f"{role}_language")
        if not isinstance(value, str) or not value:
            return error(
                400, "invalid_request", f"{role}_language is required", plain=plain
            )
        if value not in languages:
            return error(
                400, "invalid_language", f"Unsupported {role} language: {value}", plain=plain
            )
    voice = field(body, "voice_type")
    if voice is None:
        voice = "clone"
    if voice not in VOICE_TYPES:
        return error(
            400, "invalid_request", "voice_type must be clone, female or male", plain=plain
        )
    return SessionRequest(
        source_language=field(body, "source_language"),
        target_language=field(body, "target_language"),
        voice_type=voice,
        body=dict(body),
    )


def parse_json(raw: bytes) -> Any:
    """The decoded body, or ``None`` when it is not JSON."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
