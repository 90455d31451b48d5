"""Contract: PinchClient against the simulator over real HTTP, for every answer."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from livekit import rtc

from bot.pinch import (
    AuthenticationError,
    BadResponseError,
    InvalidLanguageError,
    InvalidRequestError,
    NoCreditsError,
    PinchClient,
    PinchNetworkError,
    PinchTimeoutError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from bot.pinch.client import classify_response
from bot.secrets import Secret
from tests.fakes.pinch import AGENT_IDENTITY, PinchSimulator, SimulatorFaults
from tests.integration.pinch.helpers import client_for
from tests.support.fixtures_pinch import MakeSimulator
from tests.support.ports import free_tcp_port
from tests.unit.pinch.fake_time import FakeTime

POLICY = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8.0, total_timeout=30.0)


async def test_session_has_the_livekit_url_an_api_room_name_and_a_one_hour_token(
    pinch_client: PinchClient, pinch_simulator: PinchSimulator
) -> None:
    session = await pinch_client.create_session("en-US", "es-ES")
    assert session.url == pinch_simulator.livekit_url
    assert re.fullmatch(r"api-[0-9a-f]{8}", session.room_name)
    assert 3500 < session.seconds_left() <= 3600
    assert [s.room_name for s in pinch_simulator.sessions] == [session.room_name]


async def test_request_reaches_the_service_as_snake_case_json_with_the_bearer_token(
    pinch_client: PinchClient, pinch_simulator: PinchSimulator
) -> None:
    await pinch_client.create_session("en", "es-es", "male")
    (call,) = pinch_simulator.calls
    assert call.authorized
    assert call.content_type == "application/json"
    assert call.body == {"source_language": "en-US", "target_language": "es-ES",
                         "voice_type": "male"}
    assert pinch_simulator.sessions[0].request.voice_type == "male"


async def test_session_token_joins_the_real_livekit_room_with_the_agent_already_there(
    pinch_client: PinchClient,
) -> None:
    session = await pinch_client.create_session("en-US", "fr-FR")
    room = rtc.Room()
    await room.connect(session.url, session.token.reveal())
    try:
        assert room.name == session.room_name
        assert room.local_participant.identity == f"client-{session.room_name[4:]}"
        assert AGENT_IDENTITY in room.remote_participants
    finally:
        await room.disconnect()


async def test_unsupported_language_is_refused_locally_without_calling_the_service(
    pinch_client: PinchClient, pinch_simulator: PinchSimulator
) -> None:
    with pytest.raises(InvalidLanguageError):
        await pinch_client.create_session("en-US", "xx-XX")
    assert pinch_simulator.calls == []


async def test_language_the_service_does_not_support_is_an_invalid_language_error(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(languages={"en-US"})
    async with client_for(sim, FakeTime(), retry=POLICY) as client:
        with pytest.raises(InvalidLanguageError) as caught:
            await client.create_session("en-US", "es-ES")
    assert caught.value.status == 400
    assert caught.value.detail == "Unsupported target language: es-ES"
    assert len(sim.calls) == 1


async def test_wrong_api_token_is_an_authentication_error_and_is_not_retried(
    pinch_simulator: PinchSimulator,
) -> None:
    fake = FakeTime()
    async with client_for(pinch_simulator, fake, retry=POLICY, token="wrong-token-123") as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.create_session("en-US", "es-ES")
    assert (caught.value.status, caught.value.code) == (401, "invalid_token")
    assert len(pinch_simulator.calls) == 1
    assert fake.sleeps == []


async def test_plain_string_errors_are_understood(make_pinch_simulator: MakeSimulator) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(plain_string_errors=True))
    async with client_for(sim, FakeTime(), token="wrong-token-123") as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.create_session("en-US", "es-ES")
    assert caught.value.detail == "Invalid or expired API token"
    assert caught.value.code is None


@pytest.mark.parametrize("status", [402, 403])
async def test_no_credits_is_reported_and_not_retried(
    make_pinch_simulator: MakeSimulator, status: int
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(scripted_statuses=(status,)))
    fake = FakeTime()
    async with client_for(sim, fake, retry=POLICY) as client:
        with pytest.raises(NoCreditsError) as caught:
            await client.create_session("en-US", "es-ES")
    assert caught.value.status == status
    assert "credits" in caught.value.user_message
    assert len(sim.calls) == 1


async def test_rate_limit_is_retried_after_exactly_the_retry_after_seconds(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(
        faults=SimulatorFaults(scripted_statuses=(429, 429), retry_after=3)
    )
    fake = FakeTime()
    async with client_for(sim, fake, retry=POLICY) as client:
        session = await client.create_session("en-US", "es-ES")
    assert fake.sleeps == [3.0, 3.0]
    assert [c.status for c in sim.calls] == [429, 429, 200]
    assert sim.sessions[0].room_name == session.room_name


async def test_rate_limit_every_nth_call_costs_one_retry_on_that_call(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(rate_limit_every=2, retry_after=1))
    fake = FakeTime()
    async with client_for(sim, fake, retry=POLICY) as client:
        await client.create_session("en-US", "es-ES")
        await client.create_session("en-US", "es-ES")
    assert [c.status for c in sim.calls] == [200, 429, 200]
    assert fake.sleeps == [1.0]


async def test_rate_limit_without_retry_after_backs_off_exponentially(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(
        faults=SimulatorFaults(scripted_statuses=(429, 429, 429), retry_after=None)
    )
    fake = FakeTime()
    async with client_for(sim, fake, retry=POLICY, rand=0.0) as client:
        await client.create_session("en-US", "es-ES")
    assert fake.sleeps == [0.5, 1.0, 2.0]


async def test_rate_limit_asking_for_more_than_the_time_budget_fails_at_once(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(rate_limit_every=1, retry_after=60))
    fake = FakeTime()
    async with client_for(sim, fake, retry=POLICY) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.create_session("en-US", "es-ES")
    assert caught.value.retry_after == 60
    assert caught.value.retryable
    assert fake.sleeps == []
    assert len(sim.calls) == 1


@pytest.mark.parametrize("rand", [0.0, 0.37, 0.999])
async def test_internal_errors_are_retried_with_jittered_exponential_backoff_in_bounds(
    make_pinch_simulator: MakeSimulator, rand: float
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(scripted_statuses=(500, 500, 500)))
    fake = FakeTime()
    async with client_for(sim, fake, retry=POLICY, rand=rand) as client:
        await client.create_session("en-US", "es-ES")
    assert [c.status for c in sim.calls] == [500, 500, 500, 200]
    assert len(fake.sleeps) == 3
    for retry, slept in enumerate(fake.sleeps, start=1):
        low, high = POLICY.bounds(retry)
        assert low <= slept <= high
    assert fake.sleeps[2] > fake.sleeps[0]


async def test_persistent_internal_error_gives_up_after_max_attempts(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(internal_error_every=1))
    fake = FakeTime()
    async with client_for(sim, fake, retry=POLICY) as client:
        with pytest.raises(ServerError) as caught:
            await client.create_session("en-US", "es-ES")
    assert (caught.value.status, caught.value.code) == (500, "internal_error")
    assert len(sim.calls) == POLICY.max_attempts
    assert len(fake.sleeps) == POLICY.max_attempts - 1


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_proxy_html_pages_are_server_errors_and_retried(
    make_pinch_simulator: MakeSimulator, status: int
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(scripted_statuses=(status,)))
    async with client_for(sim, FakeTime(), retry=POLICY) as client:
        await client.create_session("en-US", "es-ES")
    assert [c.status for c in sim.calls] == [status, 200]


async def test_total_timeout_stops_retrying_before_the_budget_is_spent(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(internal_error_every=1))
    fake = FakeTime()
    policy = RetryPolicy(max_attempts=10, base_delay=1.0, max_delay=8.0, total_timeout=5.0)
    async with client_for(sim, fake, retry=policy, rand=0.0) as client:
        with pytest.raises(ServerError):
            await client.create_session("en-US", "es-ES")
    assert fake.sleeps == [1.0, 2.0]  # a third wait (4 s) would end past 5 s
    assert len(sim.calls) == 3


async def test_slow_answer_times_out_as_a_retryable_timeout(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(response_delay=1.0))
    fake = FakeTime()
    policy = RetryPolicy(max_attempts=2)
    async with client_for(sim, fake, retry=policy, timeout=0.2) as client:
        with pytest.raises(PinchTimeoutError) as caught:
            await client.create_session("en-US", "es-ES")
    assert caught.value.retryable
    assert len(fake.sleeps) == 1
    assert len(sim.calls) == 2


async def test_unreachable_service_is_a_retried_network_error() -> None:
    fake = FakeTime()
    client = PinchClient(
        f"http://127.0.0.1:{free_tcp_port()}", Secret("whatever-token-123"), retry=POLICY,
        sleep=fake.sleep, clock=fake.clock,
    )
    async with client:
        with pytest.raises(PinchNetworkError):
            await client.create_session("en-US", "es-ES")
    assert len(fake.sleeps) == POLICY.max_attempts - 1


async def test_expired_session_token_is_a_bad_response(make_pinch_simulator: MakeSimulator) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(expired_tokens=True))
    async with client_for(sim) as client:
        with pytest.raises(BadResponseError, match="expired"):
            await client.create_session("en-US", "es-ES")
    assert len(sim.calls) == 1


@pytest.mark.parametrize(
    ("bad", "reason"),
    [("not_json", "not JSON"), ("missing_token", "'token'"), ("bad_jwt", "not a JWT")],
)
async def test_unusable_success_body_is_a_bad_response_not_retried(
    make_pinch_simulator: MakeSimulator, bad: str, reason: str
) -> None:
    sim = await make_pinch_simulator(faults=SimulatorFaults(bad_success=bad))  # type: ignore[arg-type]
    async with client_for(sim, FakeTime(), retry=POLICY) as client:
        with pytest.raises(BadResponseError) as caught:
            await client.create_session("en-US", "es-ES")
    assert reason in str(caught.value)
    assert len(sim.calls) == 1


async def test_service_refuses_a_body_that_is_not_declared_json(
    pinch_simulator: PinchSimulator,
) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            pinch_simulator.base_url + "/api/beta1/session",
            content=b'{"source_language": "en-US", "target_language": "es-ES"}',
            headers={"Authorization": f"Bearer {pinch_simulator.api_token}",
                     "Content-Type": "text/plain"},
        )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_request"


async def test_service_refuses_an_unknown_voice_type(pinch_simulator: PinchSimulator) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            pinch_simulator.base_url + "/api/beta1/session",
            json={"source_language": "en-US", "target_language": "es-ES", "voice_type": "x"},
            headers={"Authorization": f"Bearer {pinch_simulator.api_token}"},
        )
    assert answer.status_code == 400
    with pytest.raises(InvalidRequestError):
        classify_response(answer.status_code, answer.headers, answer.content, now=time.time())
