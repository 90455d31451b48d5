"""A 200 answer becomes a validated PinchSession, or a BadResponseError."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.pinch import BadResponseError, PinchSession
from bot.pinch.session import parse_session
from tests.unit.pinch.jwt_helpers import REFERENCE_EXP, REFERENCE_TOKEN, b64, make_jwt

NOW = 1_770_000_000.0


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "url": "wss://pinch-prod-interpreter-jgw70la3.livekit.cloud",
        "token": REFERENCE_TOKEN,
        "room_name": "api-44a70196",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def test_reference_response_gives_a_session_expiring_at_the_token_exp_in_utc() -> None:
    session = parse_session(_body(), now=NOW)
    assert session.url == "wss://pinch-prod-interpreter-jgw70la3.livekit.cloud"
    assert session.room_name == "api-44a70196"
    assert session.token.reveal() == REFERENCE_TOKEN
    assert session.expires_at == datetime.fromtimestamp(REFERENCE_EXP, tz=UTC)
    assert session.expires_at.tzinfo is UTC


def test_session_repr_and_str_never_show_the_token() -> None:
    session = parse_session(_body(), now=NOW)
    assert REFERENCE_TOKEN not in repr(session)
    assert REFERENCE_TOKEN not in str(session)
    assert REFERENCE_TOKEN not in f"{session}"


def test_seconds_left_counts_down_to_expiry() -> None:
    session = parse_session(_body(), now=NOW)
    assert session.seconds_left(datetime.fromtimestamp(REFERENCE_EXP - 60, tz=UTC)) == 60


@pytest.mark.parametrize("field", ["url", "token", "room_name"])
@pytest.mark.parametrize("value", [..., None, "", "   ", 42, ["x"]])
def test_each_field_must_be_a_non_empty_string(field: str, value: Any) -> None:
    with pytest.raises(BadResponseError, match=field):
        parse_session(_body(**{field: value}), now=NOW)


@pytest.mark.parametrize("body", [[], "session", None, 3])
def test_body_must_be_an_object(body: Any) -> None:
    with pytest.raises(BadResponseError):
        parse_session(body, now=NOW)


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "a.b",
        "a.b.c.d",
        ".payload.sig",
        "eyJhbGciOiJIUzI1NiJ9.!!!.sig",
        f"eyJhbGciOiJIUzI1NiJ9.{b64(b'not json')}.sig",
        f"eyJhbGciOiJIUzI1NiJ9.{b64(b'[1, 2]')}.sig",
        make_jwt({"sub": "client"}),
        make_jwt({"exp": "1770867107"}),
        make_jwt({"exp": True}),
        make_jwt({"exp": -5}),
        make_jwt({"exp": 10**20}),
    ],
)
def test_token_must_be_a_jwt_with_a_numeric_exp(token: str) -> None:
    with pytest.raises(BadResponseError, match="token"):
        parse_session(_body(token=token), now=NOW)


def test_token_already_expired_is_a_bad_response() -> None:
    with pytest.raises(BadResponseError, match="expired"):
        parse_session(_body(token=make_jwt({"exp": NOW - 1})), now=NOW)


def test_fractional_exp_is_accepted() -> None:
    session = parse_session(_body(token=make_jwt({"exp": NOW + 10.5})), now=NOW)
    assert session.expires_at.timestamp() == NOW + 10.5


def test_url_must_be_a_websocket_or_http_url() -> None:
    with pytest.raises(BadResponseError, match="url"):
        parse_session(_body(url="ftp://example.com"), now=NOW)


def test_session_is_immutable() -> None:
    session = parse_session(_body(), now=NOW)
    with pytest.raises(AttributeError):
        session.room_name = "other"  # type: ignore[misc]
    assert isinstance(session, PinchSession)
