"""The session a successful ``POST /api/beta1/session`` hands out, validated.

:func:`parse_session` turns the decoded JSON body into a :class:`PinchSession`
or raises :class:`~bot.pinch.errors.BadResponseError`. The LiveKit token is only
decoded (its signature belongs to the LiveKit server, not to us) to read ``exp``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from bot.pinch.errors import BadResponseError
from bot.secrets import Secret

_URL_SCHEMES: Final = ("wss", "ws", "https", "http")


@dataclass(frozen=True, slots=True)
class PinchSession:
    """Credentials for one translation room. ``token`` never prints."""

    url: str
    token: Secret
    room_name: str
    expires_at: datetime  # UTC, from the token's ``exp``

    def seconds_left(self, now: datetime | None = None) -> float:
        """Seconds until the token expires (negative once it has)."""
        return (self.expires_at - (now or datetime.now(UTC))).total_seconds()


def parse_session(body: Any, *, now: float) -> PinchSession:
    """Validate a 200 body; ``now`` (unix seconds) rejects tokens already expired."""
    if not isinstance(body, dict):
        raise BadResponseError("session response is not a JSON object")
    fields: dict[str, str] = {}
    for name in ("url", "token", "room_name"):
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            raise BadResponseError(f"session response field {name!r} missing or not a string")
        fields[name] = value
    scheme = urlsplit(fields["url"]).scheme
    if scheme not in _URL_SCHEMES:
        raise BadResponseError("session url is not a ws(s)/http(s) URL")
    token = Secret(fields["token"])
    exp = jwt_expiry(fields["token"])
    if exp <= now:
        raise BadResponseError("session token is already expired")
    return PinchSession(
        url=fields["url"],
        token=token,
        room_name=fields["room_name"],
        expires_at=datetime.fromtimestamp(exp, tz=UTC),
    )


def jwt_expiry(token: str) -> float:
    """The ``exp`` claim (unix seconds) of a JWT, without verifying its signature."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise BadResponseError("session token is not a JWT")
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise BadResponseError("session token payload is not base64url JSON") from exc
    if not isinstance(claims, dict):
        raise BadResponseError("session token payload is not a JSON object")
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float) or not math.isfinite(exp):
        raise BadResponseError("session token has no numeric exp claim")
    if not 0 < exp < 32_503_680_000:  # year 3000: beyond it datetime arithmetic is moot
        raise BadResponseError("session token exp claim is out of range")
    return float(exp)
