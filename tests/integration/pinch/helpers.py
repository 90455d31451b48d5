"""Helpers shared by the Pinch integration tests (not fixtures: plain functions)."""

from __future__ import annotations

from bot.pinch import PinchClient, RetryPolicy
from bot.secrets import Secret
from tests.fakes.pinch import PinchSimulator
from tests.support.fixtures_pinch import PINCH_TEST_TOKEN
from tests.unit.pinch.fake_time import FakeTime


def client_for(
    sim: PinchSimulator,
    fake: FakeTime | None = None,
    *,
    retry: RetryPolicy | None = None,
    token: str = PINCH_TEST_TOKEN,
    timeout: float = 5.0,
    rand: float = 0.5,
) -> PinchClient:
    """A client over real HTTP to ``sim``; with ``fake``, retries sleep on a fake clock."""
    if fake is None:
        return PinchClient(sim.base_url, Secret(token), timeout=timeout, retry=retry)
    return PinchClient(
        sim.base_url,
        Secret(token),
        timeout=timeout,
        retry=retry,
        sleep=fake.sleep,
        clock=fake.clock,
        rand=lambda: rand,
    )
