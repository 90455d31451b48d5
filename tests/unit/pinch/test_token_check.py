"""PinchClient.verify_token: the token checked without opening a session.

The simulator tests (tests/integration/startup) show the probe against the
documented answers; these cover the answers the simulator does not give.
"""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from bot.pinch import (
    PROBE_TARGET_LANGUAGE,
    AuthenticationError,
    ClientClosedError,
    NoCreditsError,
    PinchClient,
    RetryPolicy,
    ServerError,
)
from bot.secrets import Secret
from tests.unit.pinch.fake_time import FakeTime
from tests.unit.pinch.jwt_helpers import make_jwt

API_TOKEN = "pk_unit_test_token_654321"


def _client(*responses: httpx.Response, seen: list[httpx.Request] | None = None) -> PinchClient:
    answers = list(responses)
    fake = FakeTime()

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return answers.pop(0)

    return PinchClient("https://pinch.example", Secret(API_TOKEN),
                       transport=httpx.MockTransport(handler), sleep=fake.sleep,
                       clock=fake.clock, rand=lambda: 0.0,
                       retry=RetryPolicy(max_attempts=3, base_delay=0.1))


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}})


async def test_invalid_language_answer_means_the_token_was_accepted() -> None:
    seen: list[httpx.Request] = []
    async with _client(_error(400, "invalid_language", "Unsupported target language: xx-XX"),
                       seen=seen) as client:
        await client.verify_token()
    [request] = seen
    assert request.headers["Authorization"] == f"Bearer {API_TOKEN}"
    assert json.loads(request.content)["target_language"] == PROBE_TARGET_LANGUAGE


async def test_any_validation_refusal_means_the_token_was_accepted() -> None:
    async with _client(_error(422, "invalid_request", "bad body")) as client:
        await client.verify_token()


async def test_refused_token_is_an_authentication_error() -> None:
    async with _client(_error(401, "invalid_token", "Invalid or expired API token")) as client:
        with pytest.raises(AuthenticationError):
            await client.verify_token()


async def test_account_without_credits_is_reported() -> None:
    async with _client(httpx.Response(402, json={"error": "Insufficient credits"})) as client:
        with pytest.raises(NoCreditsError):
            await client.verify_token()


async def test_server_errors_are_retried_before_failing() -> None:
    seen: list[httpx.Request] = []
    async with _client(*[_error(500, "internal_error", "boom")] * 3, seen=seen) as client:
        with pytest.raises(ServerError):
            await client.verify_token()
    assert len(seen) == 3


async def test_a_session_opened_anyway_counts_as_accepted_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = {"url": "wss://lk.example", "token": make_jwt({"exp": 4_000_000_000}),
            "room_name": "api-probe"}
    async with _client(httpx.Response(200, json=body)) as client:
        with caplog.at_level(logging.WARNING):
            await client.verify_token()
    assert "opened session api-probe" in caplog.text


async def test_a_closed_client_refuses_to_check() -> None:
    client = _client()
    await client.aclose()
    with pytest.raises(ClientClosedError):
        await client.verify_token()
