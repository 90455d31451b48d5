"""HTTP answers → the PinchError tree: codes, statuses, shapes, Retry-After, wording."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from bot.pinch import (
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
from bot.pinch.client import classify_response, parse_retry_after

NOW = 1_770_000_000.0


def _raise(status: int, body: object | bytes, headers: dict[str, str] | None = None) -> PinchError:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(PinchError) as caught:
        classify_response(status, headers or {}, content, now=NOW)
    return caught.value


def _documented(code: str, message: str) -> dict[str, object]:
    return {"error": {"code": code, "message": message}}


@pytest.mark.parametrize(
    ("status", "code", "expected", "retryable"),
    [
        (400, "invalid_language", InvalidLanguageError, False),
        (401, "invalid_token", AuthenticationError, False),
        (429, "rate_limit_exceeded", RateLimitError, True),
        (500, "internal_error", ServerError, True),
    ],
)
def test_each_documented_error_code_maps_to_its_error(
    status: int, code: str, expected: type[PinchError], retryable: bool
) -> None:
    error = _raise(status, _documented(code, "details"))
    assert type(error) is expected
    assert error.retryable is retryable
    assert (error.status, error.code, error.detail) == (status, code, "details")


def test_documented_code_wins_over_an_unusual_status() -> None:
    assert type(_raise(403, _documented("invalid_token", "x"))) is AuthenticationError


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, InvalidRequestError),
        (422, InvalidRequestError),
        (401, AuthenticationError),
        (402, NoCreditsError),
        (403, NoCreditsError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (404, UnexpectedStatusError),
        (418, UnexpectedStatusError),
        (302, UnexpectedStatusError),
        (101, UnexpectedStatusError),
    ],
)
def test_plain_string_error_shape_is_classified_by_status(
    status: int, expected: type[PinchError]
) -> None:
    error = _raise(status, {"error": "Insufficient credits"})
    assert type(error) is expected
    assert error.detail == "Insufficient credits"


@pytest.mark.parametrize("body", [b"<html>502 Bad Gateway</html>", b"", b"\xff\xfe", b"[1,"])
def test_non_json_error_body_is_classified_by_status(body: bytes) -> None:
    error = _raise(502, body)
    assert type(error) is ServerError
    assert "html" not in str(error).lower()


@pytest.mark.parametrize("body", [{"message": "no error key"}, [1, 2], {"error": 5}])
def test_json_error_body_of_an_unknown_shape_is_classified_by_status(body: object) -> None:
    assert type(_raise(401, body)) is AuthenticationError


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"<html>OK</html>", "not JSON"), (b"", "not JSON"), (b"[]", "object"),
     (b'{"url": "wss://x", "room_name": "api-1"}', "token"), (b"{" * 100_000, "too large")],
)
def test_success_status_with_an_unusable_body_is_a_bad_response(body: bytes, reason: str) -> None:
    error = _raise(200, body)
    assert type(error) is BadResponseError
    assert reason in str(error)
    assert error.retryable is False


def test_rate_limit_carries_retry_after_seconds() -> None:
    error = _raise(429, _documented("rate_limit_exceeded", "x"), {"Retry-After": "3"})
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 3.0


def test_rate_limit_without_retry_after_has_none() -> None:
    error = _raise(429, {"error": "Too many requests"})
    assert isinstance(error, RateLimitError)
    assert error.retry_after is None


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    when = format_datetime(datetime.fromtimestamp(NOW + 12, tz=UTC), usegmt=True)
    assert parse_retry_after(when, NOW) == 12.0


@pytest.mark.parametrize(("value", "expected"), [
    ("0.5", 0.5), ("-3", 0.0), ("soon", None), ("nan", None), ("inf", None), (None, None),
    (format_datetime(datetime.fromtimestamp(NOW - 30, tz=UTC), usegmt=True), 0.0),
])
def test_retry_after_is_non_negative_or_ignored(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    "cls",
    [AuthenticationError, BadResponseError, ClientClosedError, InvalidLanguageError,
     InvalidRequestError, NoCreditsError, PinchNetworkError, PinchTimeoutError, RateLimitError,
     ServerError, UnexpectedStatusError, PinchRequestError, PinchTransportError, PinchError],
)
def test_every_error_has_a_short_sentence_for_discord_users(cls: type[PinchError]) -> None:
    message = cls().user_message
    assert message.endswith(".")
    assert 10 < len(message) <= 120


def test_only_rate_limits_server_errors_and_transport_failures_are_retryable() -> None:
    retryable = {
        cls for cls in [AuthenticationError, BadResponseError, ClientClosedError,
                        InvalidLanguageError, InvalidRequestError, NoCreditsError,
                        PinchNetworkError, PinchTimeoutError, RateLimitError, ServerError,
                        UnexpectedStatusError]
        if cls.retryable
    }
    assert retryable == {PinchNetworkError, PinchTimeoutError, RateLimitError, ServerError}


def test_server_message_echoing_credentials_is_redacted_in_error_text() -> None:
    leaked = (
        "bad header Bearer sk_live_abcdefghijklmnop, token "
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2ln"
    )
    error = _raise(500, _documented("internal_error", leaked))
    assert "sk_live_abcdefghijklmnop" not in str(error)
    assert "eyJzdWIiOiJ4In0" not in str(error)


def test_error_text_is_truncated() -> None:
    error = _raise(500, _documented("internal_error", "x" * 10_000))
    assert len(str(error)) < 300
