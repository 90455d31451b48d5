"""Every Pinch API request is counted by outcome, retries included."""

from __future__ import annotations

import httpx
import pytest

from bot.observability.pinch_calls import MeteredTransport, outcome_of_status
from bot.pinch import NO_RETRY, PinchClient, RetryPolicy
from bot.secrets import Secret

SESSION = {"url": "wss://lk.example", "room_name": "api-1",
           "token": "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln"}


def client(handler: httpx.MockTransport, outcomes: list[str],
           retry: RetryPolicy = NO_RETRY) -> PinchClient:
    async def no_sleep(_s: float) -> None:
        return None

    return PinchClient("https://pinch.example", Secret("pinch-token-for-tests"), retry=retry,
                       transport=MeteredTransport(handler, outcomes.append), sleep=no_sleep)


async def test_a_retried_rate_limit_counts_both_calls() -> None:
    answers = iter([httpx.Response(429, json={"error": {"code": "rate_limit_exceeded",
                                                         "message": "slow"}},
                                   headers={"Retry-After": "0"}),
                    httpx.Response(200, json=SESSION)])
    outcomes: list[str] = []
    async with client(httpx.MockTransport(lambda _r: next(answers)), outcomes,
                      RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0)) as pinch:
        await pinch.create_session("en-US", "es-ES")
    assert outcomes == ["rate_limited", "ok"]


async def test_no_answer_at_all_is_a_network_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    outcomes: list[str] = []
    async with client(httpx.MockTransport(refuse), outcomes) as pinch:
        with pytest.raises(Exception, match="ConnectError"):
            await pinch.create_session("en-US", "es-ES")
    assert outcomes == ["network_error"]


async def test_a_timeout_is_its_own_outcome() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    outcomes: list[str] = []
    async with client(httpx.MockTransport(slow), outcomes) as pinch:
        with pytest.raises(Exception, match="no answer"):
            await pinch.create_session("en-US", "es-ES")
    assert outcomes == ["timeout"]


def test_statuses_map_to_outcomes() -> None:
    assert [outcome_of_status(s) for s in (200, 401, 402, 403, 404, 429, 503, 302)] == [
        "ok", "unauthorized", "no_credits", "no_credits", "client_error", "rate_limited",
        "server_error", "other_status"]
