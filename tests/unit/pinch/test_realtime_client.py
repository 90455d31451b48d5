"""The WebSocket API's session request over httpx.MockTransport: query, answers, errors,
retries, and a context that never reaches a log line."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest

from bot.pinch import (
    AuthenticationError,
    BadResponseError,
    InvalidLanguageError,
    NotEntitledError,
    RateLimitError,
    ServerError,
)
from bot.pinch.options import SessionOptions
from bot.pinch.realtime import DEFAULT_RETRY, PinchRealtimeClient
from bot.secrets import Secret
from tests.unit.pinch.fake_time import FakeTime

API_KEY = "pk_unit_realtime_key_123456"
WS_URL = "wss://ws.example/session?token=presigned-token-abcdef"
OK = {"session_id": "ss_01ABC", "ws_url": WS_URL, "expires_in": 60}
OPTIONS = SessionOptions("en-us", "es", "female", context="Ferris and crates.io")

Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, fake: FakeTime | None = None) -> PinchRealtimeClient:
    fake = fake or FakeTime()
    return PinchRealtimeClient("https://ws.example/", Secret(API_KEY),
                               transport=httpx.MockTransport(handler), sleep=fake.sleep,
                               clock=fake.clock, rand=lambda: 0.0)


async def test_the_request_is_a_get_with_the_key_and_the_options_as_query() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=OK)

    client = _client(handler)
    session = await client.create_session(OPTIONS)
    await client.aclose()
    (request,) = seen
    assert request.method == "GET"
    assert request.url.path == "/v1/session"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert dict(request.url.params) == {
        "sourceLanguage": "en-US", "targetLanguage": "es-ES", "voiceType": "female",
        "audioOutputEnabled": "true", "finalizeMode": "sentence",
        "context": "Ferris and crates.io"}
    assert session.session_id == "ss_01ABC"
    assert session.ws_url.reveal() == WS_URL
    assert WS_URL not in repr(session)


async def test_the_url_must_be_opened_within_expires_in_from_the_request() -> None:
    fake = FakeTime()
    fake.now = 100.0
    client = _client(lambda r: httpx.Response(200, json=OK), fake)
    session = await client.create_session(OPTIONS)
    await client.aclose()
    assert session.expires_at == 160.0
    assert session.seconds_left(now=150.0) == 10.0


@pytest.mark.parametrize("body", [
    {"ws_url": WS_URL, "expires_in": 60},
    {"session_id": "ss_1", "expires_in": 60},
    {"session_id": "ss_1", "ws_url": "https://ws.example/session", "expires_in": 60},
    {"session_id": "ss_1", "ws_url": WS_URL},
    {"session_id": "ss_1", "ws_url": WS_URL, "expires_in": "60"},
    ["not", "an", "object"],
])
async def test_an_answer_missing_what_the_socket_needs_is_a_bad_response(body: object) -> None:
    client = _client(lambda r: httpx.Response(200, json=body))
    with pytest.raises(BadResponseError):
        await client.create_session(OPTIONS)
    await client.aclose()


@pytest.mark.parametrize(("status", "error"), [
    (401, AuthenticationError), (403, NotEntitledError),
])
async def test_refused_keys_are_not_retried(status: int, error: type[Exception]) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, json={"error": "no"})

    client = _client(handler)
    with pytest.raises(error):
        await client.create_session(OPTIONS)
    await client.aclose()
    assert calls == [1]


async def test_a_503_is_retried_after_one_then_two_seconds() -> None:
    fake = FakeTime()
    statuses = iter([503, 503, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        return httpx.Response(status, json=OK if status == 200 else {"error": "capacity"})

    client = PinchRealtimeClient("https://ws.example", Secret(API_KEY),
                                 transport=httpx.MockTransport(handler), sleep=fake.sleep,
                                 clock=fake.clock, rand=lambda: 0.0)
    await client.create_session(OPTIONS)
    await client.aclose()
    assert fake.sleeps == [1.0, 2.0]
    assert client.retry_policy == DEFAULT_RETRY


async def test_a_503_storm_longer_than_the_policy_ends_in_a_server_error() -> None:
    client = _client(lambda r: httpx.Response(503, text="busy"))
    with pytest.raises(ServerError) as raised:
        await client.create_session(OPTIONS)
    await client.aclose()
    assert raised.value.retryable  # the link's own backoff carries on from here


async def test_a_429_waits_its_retry_after() -> None:
    fake = FakeTime()
    statuses = iter([429, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        if status == 429:
            return httpx.Response(429, headers={"Retry-After": "3"}, json={"error": "slow"})
        return httpx.Response(200, json=OK)

    client = _client(handler, fake)
    await client.create_session(OPTIONS)
    await client.aclose()
    assert fake.sleeps == [3.0]


async def test_languages_are_checked_before_anything_is_sent() -> None:
    client = _client(lambda r: pytest.fail("nothing may be sent"))
    with pytest.raises(InvalidLanguageError):
        await client.create_session(SessionOptions("xx-XX", "es-ES"))
    await client.aclose()


async def test_the_context_never_reaches_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    client = _client(lambda r: httpx.Response(200, json=OK))
    with caplog.at_level(logging.DEBUG):
        await client.create_session(OPTIONS)
    await client.aclose()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request: GET https://ws.example/v1/session" in logged  # httpx did log it
    assert "Ferris" not in logged
    assert "presigned-token" not in logged


async def test_a_rate_limit_error_is_the_shared_tree() -> None:
    client = _client(lambda r: httpx.Response(429, json={"error": {"code": "rate_limit_exceeded",
                                                                   "message": "x"}}))
    with pytest.raises(RateLimitError):
        await client.create_session(OPTIONS)
    await client.aclose()
