"""What /healthz (liveness: the gateway) and /readyz (readiness: the gateway, registered
checks such as the store, READY, not shutting down) decide."""

from __future__ import annotations

import asyncio

import pytest

from bot.observability.health import Health, ShardState
from bot.secrets import Secret


def connected(*ids: int, down: tuple[int, ...] = ()) -> list[ShardState]:
    return [ShardState(i, i not in down, 0.05, 1) for i in ids]


async def test_ready_when_every_shard_is_connected_and_checks_pass() -> None:
    health = Health(lambda: connected(0, 1), lambda: True)

    async def store_ok() -> None:
        return None

    health.add_check("store", store_ok)
    report = await health.readiness()
    assert report.ok
    assert report.checks == {"gateway": "ok", "store": "ok", "ready": "ok"}


async def test_a_failing_check_makes_the_bot_unready_but_leaves_it_alive() -> None:
    health = Health(lambda: connected(0), lambda: True)

    async def store_down() -> None:
        raise ConnectionRefusedError("connection refused")

    health.add_check("store", store_down)
    alive = await health.health()
    assert alive.ok
    assert alive.checks == {"gateway": "ok"}
    ready = await health.readiness()
    assert not ready.ok
    assert ready.checks["store"] == "connection refused"


async def test_a_disconnected_shard_is_named() -> None:
    report = await Health(lambda: connected(0, 1, down=(1,)), lambda: True).health()
    assert not report.ok
    assert report.checks["gateway"] == "shard 1 disconnected"


async def test_no_shard_yet_is_unhealthy() -> None:
    report = await Health(list, lambda: True).health()
    assert report.checks["gateway"] == "not connected"


async def test_a_failing_check_reports_one_redacted_line() -> None:
    password = Secret("db-password-123456")
    health = Health(lambda: connected(0), lambda: True)

    async def store() -> None:
        raise ConnectionError(f"could not connect with {password.reveal()}\nsecond line")

    health.add_check("store", store)
    report = await health.readiness()
    assert not report.ok
    assert report.checks["store"] == "could not connect with [redacted]"


async def test_a_hanging_check_times_out() -> None:
    health = Health(lambda: connected(0), lambda: True, check_timeout_s=0.05)

    async def hangs() -> None:
        await asyncio.Event().wait()

    health.add_check("store", hangs)
    assert (await health.readiness()).checks["store"] == "no answer within 0.05 s"


async def test_ready_needs_ready_and_not_shutting_down() -> None:
    ready = [False]
    health = Health(lambda: connected(0), lambda: ready[0])
    assert (await health.readiness()).checks["ready"] == "waiting for Discord's READY"
    ready[0] = True
    assert (await health.readiness()).ok
    health.shutting_down = True
    report = await health.readiness()
    assert not report.ok
    assert report.checks["ready"] == "shutting down"


def test_check_names_are_unique() -> None:
    health = Health(list, lambda: True)

    async def check() -> None:
        return None

    health.add_check("store", check)
    with pytest.raises(ValueError, match="store"):
        health.add_check("store", check)
