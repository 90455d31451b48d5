"""The HTTP endpoint and the container's probe, over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest

from bot.observability import probe
from bot.observability.health import Health, ShardState
from bot.observability.metrics import BotMetrics
from bot.observability.server import ObservabilityServer


@dataclass
class World:
    shards: list[ShardState] = field(default_factory=list)
    ready: bool = False


@dataclass
class Endpoint:
    world: World
    health: Health
    metrics: BotMetrics
    url: str
    port: int


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    world = World()
    health = Health(lambda: world.shards, lambda: world.ready)
    metrics = BotMetrics(runs=dict, voice_of=lambda _g: None, guild_of=lambda _c: None,
                         shards=lambda: world.shards)
    server = ObservabilityServer(health, metrics, "127.0.0.1", 0)
    await server.start()
    assert server.port is not None
    try:
        yield Endpoint(world, health, metrics, f"http://127.0.0.1:{server.port}", server.port)
    finally:
        await server.aclose()
        await server.aclose()  # twice is harmless


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.headers["Content-Type"], await response.text()


async def test_healthz_is_503_with_reasons_until_the_gateway_connects(endpoint: Endpoint) -> None:
    status, ctype, body = await get(endpoint.url + "/healthz")
    assert (status, ctype.split(";")[0]) == (503, "application/json")
    assert '"gateway": "not connected"' in body
    endpoint.world.shards = [ShardState(0, True, 0.04, 3)]
    status, _, body = await get(endpoint.url + "/healthz")
    assert status == 200
    assert '"status": "ok"' in body


async def test_readyz_waits_for_ready_and_turns_503_while_shutting_down(
    endpoint: Endpoint,
) -> None:
    endpoint.world.shards = [ShardState(0, True, 0.04, 3)]
    assert (await get(endpoint.url + "/readyz"))[0] == 503
    endpoint.world.ready = True
    assert (await get(endpoint.url + "/readyz"))[0] == 200
    endpoint.health.shutting_down = True
    status, _, body = await get(endpoint.url + "/readyz")
    assert status == 503
    assert "shutting down" in body
    assert (await get(endpoint.url + "/healthz"))[0] == 200  # still alive while draining


async def test_metrics_are_prometheus_text_with_the_gateway_per_shard(endpoint: Endpoint) -> None:
    endpoint.world.shards = [ShardState(3, True, 0.04, 7)]
    endpoint.metrics.pinch_call("rate_limited")
    status, ctype, body = await get(endpoint.url + "/metrics")
    assert status == 200
    assert ctype.startswith("text/plain")
    assert "interpret_active_runs 0.0" in body
    assert 'interpret_guilds{shard="3"} 7.0' in body
    assert 'interpret_pinch_api_calls_total{outcome="rate_limited"} 1.0' in body


async def test_the_probe_exits_0_when_healthy_and_1_with_the_reason_when_not(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("METRICS_PORT", str(endpoint.port))
    monkeypatch.setenv("METRICS_HOST", "0.0.0.0")
    assert await asyncio.to_thread(probe.main, []) == 1
    assert "gateway: not connected" in capsys.readouterr().err
    endpoint.world.shards = [ShardState(0, True, 0.04, 1)]
    assert await asyncio.to_thread(probe.main, []) == 0
    assert await asyncio.to_thread(probe.main, ["--ready"]) == 1


def test_the_probe_says_when_the_endpoint_is_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("METRICS_PORT", raising=False)
    assert probe.main([]) == 1
    assert "METRICS_PORT is not set" in capsys.readouterr().err


async def test_a_port_in_use_fails_at_start(endpoint: Endpoint) -> None:
    second = ObservabilityServer(endpoint.health, endpoint.metrics, "127.0.0.1", endpoint.port)
    with pytest.raises(OSError):
        await second.start()
