"""PinchClient behaviour the simulator cannot provoke, over httpx.MockTransport."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest

from bot.pinch import (
    ClientClosedError,
    InvalidLanguageError,
    InvalidRequestError,
    PinchClient,
    PinchNetworkError,
    PinchTimeoutError,
    RetryPolicy,
    UnexpectedStatusError,
)
from bot.secrets import Secret
from tests.unit.pinch.fake_time import FakeTime
from tests.unit.pinch.jwt_helpers import make_jwt

API_TOKEN = "pk_unit_test_token_123456"
SESSION_TOKEN = make_jwt({"exp": 4_000_000_000, "sub": "client-1"})
OK_BODY = {"url": "wss://lk.example", "token": SESSION_TOKEN, "room_name": "api-0000abcd"}

Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, fake: FakeTime | None = None, **kwargs: object) -> PinchClient:
    fake = fake or FakeTime()
    return PinchClient(
        "https://pinch.example/",
        Secret(API_TOKEN),
        transport=httpx.MockTransport(handler),
        sleep=fake.sleep,
        clock=fake.clock,
        rand=lambda: 0.0,
        **kwargs,  # type: ignore[arg-type]
    )


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=OK_BODY)


def _recording(calls: list[httpx.Request]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return _ok(request)

    return handler


async def test_request_is_a_snake_case_json_post_with_the_bearer_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _ok(request)

    async with _client(handler) as client:
        await client.create_session("en-us", "es", "Female")
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://pinch.example/api/beta1/session"
    assert request.headers["Authorization"] == f"Bearer {API_TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "source_language": "en-US", "target_language": "es-ES", "voice_type": "female"
    }


async def test_voice_type_defaults_to_clone() -> None:
    bodies: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return _ok(request)

    async with _client(handler) as client:
        await client.create_session("en-US", "fr-FR")
    assert bodies == [{"source_language": "en-US", "target_language": "fr-FR",
                       "voice_type": "clone"}]


@pytest.mark.parametrize(("source", "target"), [("xx-XX", "es-ES"), ("en-US", "es-AR")])
async def test_unsupported_language_fails_before_any_request(source: str, target: str) -> None:
    calls: list[httpx.Request] = []
    async with _client(_recording(calls)) as client:
        with pytest.raises(InvalidLanguageError) as caught:
            await client.create_session(source, target)
    assert calls == []
    assert caught.value.retryable is False
    assert "Did you mean" in caught.value.user_message or "such as" in caught.value.user_message


async def test_unknown_target_region_suggests_close_matches_to_the_user() -> None:
    async with _client(_ok) as client:
        with pytest.raises(InvalidLanguageError) as caught:
            await client.create_session("en-US", "es-AR")
    assert "es-ES" in caught.value.user_message


@pytest.mark.parametrize("voice", ["robot", "", "cloned"])
async def test_voice_type_outside_clone_female_male_fails_before_any_request(voice: str) -> None:
    calls: list[httpx.Request] = []
    async with _client(_recording(calls)) as client:
        with pytest.raises(InvalidRequestError, match="voice_type"):
            await client.create_session("en-US", "es-ES", voice)
    assert calls == []


async def test_timeout_is_a_retryable_pinch_timeout_error() -> None:
    fake = FakeTime()

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with _client(handler, fake, retry=RetryPolicy(max_attempts=3)) as client:
        with pytest.raises(PinchTimeoutError) as caught:
            await client.create_session("en-US", "es-ES")
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert len(fake.sleeps) == 2


async def test_network_error_is_a_retryable_pinch_network_error_keeping_its_cause() -> None:
    attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise httpx.ConnectError("refused", request=request)
        return _ok(request)

    async with _client(handler) as client:
        session = await client.create_session("en-US", "es-ES")
    assert attempts == 3
    assert session.room_name == "api-0000abcd"


async def test_redirect_is_not_followed_and_is_an_unexpected_status() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "https://elsewhere.example/"})

    async with _client(handler) as client:
        with pytest.raises(UnexpectedStatusError) as caught:
            await client.create_session("en-US", "es-ES")
    assert caught.value.status == 302


async def test_closed_client_refuses_new_sessions_and_closing_twice_is_harmless() -> None:
    client = _client(_ok)
    await client.aclose()
    await client.aclose()
    with pytest.raises(ClientClosedError):
        await client.create_session("en-US", "es-ES")


def test_api_token_must_be_a_secret() -> None:
    with pytest.raises(TypeError):
        PinchClient("https://pinch.example", API_TOKEN)  # type: ignore[arg-type]


async def test_tokens_never_reach_logs_or_error_text(caplog: pytest.LogCaptureFixture) -> None:
    answers = iter([
        httpx.Response(503, text="busy"),
        httpx.Response(401, json={"error": {"code": "invalid_token", "message": "no"}}),
    ])
    caplog.set_level(logging.DEBUG)
    async with _client(_ok) as client:
        session = await client.create_session("en-US", "es-ES")
    async with _client(lambda r: next(answers)) as client:
        with pytest.raises(Exception) as caught:
            await client.create_session("en-US", "es-ES")
    text = caplog.text + str(caught.value) + repr(caught.value) + repr(session)
    assert API_TOKEN not in text
    assert SESSION_TOKEN not in text
    assert "retry 1/3" in caplog.text  # the retry was logged, without secrets


async def test_network_error_text_does_not_carry_the_authorization_header() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"failed {request.headers}", request=request)

    async with _client(handler, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(PinchNetworkError) as caught:
            await client.create_session("en-US", "es-ES")
    assert API_TOKEN not in str(caught.value)
    assert API_TOKEN not in caught.value.user_message
