"""A run is scraped while it runs: the bot's /metrics move with the engine, and /healthz
follows the gateway (fake Discord, real LiveKit, Pinch simulator)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import discord
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import InterpretBot
from bot.interpretation.run import RunConfig
from bot.secrets import Secret
from bot.settings import Settings
from tests.e2e.conftest import ALICE_HZ, BOB_HZ, MUSICBOT_HZ, write_wav
from tests.fakes.discord import FakeDiscord
from tests.fakes.pinch import PinchSimulator, SimulatorFaults
from tests.support.fixtures_discord import running_bot
from tests.support.fixtures_pinch import PINCH_TEST_TOKEN
from tests.support.waiting import eventually

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def bot(fake_discord: FakeDiscord, simulator: PinchSimulator) -> AsyncIterator[InterpretBot]:
    settings = Settings(discord_token=Secret(fake_discord.bot_token),
                        pinch_api_token=Secret(PINCH_TEST_TOKEN),
                        pinch_base_url=simulator.base_url, metrics_port=0)
    async with running_bot(fake_discord, settings=settings) as running:
        yield running


async def scrape(bot: InterpretBot, path: str = "/metrics") -> tuple[int, str]:
    assert bot.observability is not None
    assert bot.observability.port is not None
    url = f"http://127.0.0.1:{bot.observability.port}{path}"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def samples(bot: InterpretBot) -> Samples:
    _status, body = await scrape(bot)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def total(found: Samples, name: str, **labels: str) -> float:
    """Sum over every sample of ``name`` whose labels include ``labels``."""
    return sum(v for (n, ls), v in found.items()
               if n == name and set(labels.items()) <= set(ls))


async def start_run(fake: FakeDiscord, bot: InterpretBot) -> None:
    for name in ("alice", "bob", "musicbot"):
        await fake.move_member(name, fake.voice_channel)
    channel = bot.get_channel(fake.voice_channel.id)
    assert isinstance(channel, discord.VoiceChannel)
    assert bot.interpretations is not None
    assert bot.user is not None
    await bot.interpretations.start(channel, RunConfig(target_language="es-ES"),
                                    own_user_id=bot.user.id)
    await fake.wait_bot_voice_ready()
    await fake.wait_dave_ready()


def counters(found: Samples) -> Samples:
    return {key: v for key, v in found.items() if key[0].endswith(("_total", "_count"))}


async def test_a_run_scraped_while_it_runs_shows_its_counters_moving(
    fake_discord: FakeDiscord, bot: InterpretBot, simulator: PinchSimulator, tmp_path: Path,
) -> None:
    await start_run(fake_discord, bot)
    before = await samples(bot)
    assert value(before, "interpret_active_runs") == 1
    assert value(before, "interpret_pinch_sessions_live") == 0

    await asyncio.gather(
        fake_discord.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 1.0)),
        fake_discord.speak("musicbot", write_wav(tmp_path / "m.wav", MUSICBOT_HZ, 0.5)))
    await simulator.wait_for_segments(1, timeout=15, played=True)
    await eventually(lambda: (bot.metrics.sample("interpret_transcripts_total",
                                                 {"kind": "translated", "final": "true"})
                              or 0) >= 1, 15)
    await asyncio.sleep(0.5)  # the translated audio is still being played
    during = await samples(bot)

    assert value(during, "interpret_active_runs") == 1
    assert value(during, "interpret_pinch_sessions_live") == 1
    assert value(during, "interpret_links", state="active") == 1
    assert value(during, "interpret_pinch_session_seconds_total") > 0
    for stage in ("from_discord", "to_pinch", "from_pinch", "to_discord"):
        assert value(during, "interpret_audio_frames_total", stage=stage) > 0, stage
    assert total(during, "interpret_dropped_frames_total", stage="router", kind="excluded") > 0
    assert value(during, "interpret_pinch_api_calls_total", outcome="ok") == 1
    assert value(during, "interpret_link_state_changes_total", state="active") == 1
    assert value(during, "interpret_transcripts_total", kind="original", final="true") >= 1
    assert value(during, "interpret_gateway_connected", shard="0") == 1
    assert value(during, "interpret_guilds", shard="0") == 1
    for key, v in counters(before).items():
        assert during.get(key, 0.0) >= v, key

    assert bot.interpretations is not None
    assert await bot.interpretations.stop(fake_discord.guild.id, "test over")
    after = await samples(bot)
    assert value(after, "interpret_active_runs") == 0
    assert value(after, "interpret_pinch_sessions_live") == 0
    for key, v in counters(during).items():
        assert after.get(key, 0.0) >= v, key  # what ended is still counted
    await asyncio.sleep(0.3)
    later = await samples(bot)
    seconds = ("interpret_pinch_session_seconds_total", ())
    assert later[seconds] == after[seconds]  # the session clock stopped with the run
    frames = {k[1][0][1]: v for k, v in after.items() if k[0] == "interpret_audio_frames_total"}
    print(f"session seconds for the run: {after[seconds]:.2f}; frames: {frames}")


async def test_reconnects_and_pinch_api_outcomes_are_counted_by_cause(
    fake_discord: FakeDiscord, bot: InterpretBot, simulator: PinchSimulator, tmp_path: Path,
) -> None:
    await start_run(fake_discord, bot)
    await fake_discord.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 0.8))
    await simulator.wait_for_segments(1, timeout=15)

    simulator.faults = SimulatorFaults(rate_limit_every=1, retry_after=0.2)
    await simulator.agents[0].aclose()  # the interpreter goes: a new session is needed
    # Four 429s exhaust the client's retries once: the link itself retries (pinch_error).
    await eventually(lambda: sum(c.status == 429 for c in simulator.calls) >= 4, 10)
    simulator.faults = SimulatorFaults()
    await eventually(lambda: bot.metrics.sample("interpret_pinch_sessions_live") == 1
                     and len(simulator.sessions) == 2, 15)
    await fake_discord.speak("alice", write_wav(tmp_path / "b.wav", BOB_HZ, 0.8))
    await simulator.wait_for_segments(2, timeout=15)

    found = await samples(bot)
    assert value(found, "interpret_reconnects_total", cause="interpreter_left") == 1
    assert value(found, "interpret_reconnects_total", cause="pinch_error") >= 1
    rate_limited = sum(c.status == 429 for c in simulator.calls)
    assert value(found, "interpret_pinch_api_calls_total", outcome="rate_limited") == rate_limited
    assert value(found, "interpret_pinch_api_calls_total", outcome="ok") == 2
    assert sum(c.status == 200 for c in simulator.calls) == 2
    assert value(found, "interpret_link_state_changes_total", state="reconnecting") >= 1
    assert value(found, "interpret_link_state_changes_total", state="active") == 2


async def test_healthz_turns_unhealthy_while_the_gateway_is_away_and_healthy_once_back(
    fake_discord: FakeDiscord, bot: InterpretBot, simulator: PinchSimulator,
) -> None:
    await start_run(fake_discord, bot)
    assert (await scrape(bot, "/healthz"))[0] == 200

    away = time.monotonic()
    await fake_discord.gateway.go_away()
    unhealthy: list[str] = []

    async def poll_until(status: int) -> None:
        while True:
            code, body = await scrape(bot, "/healthz")
            if code == status:
                unhealthy.append(body)
                return
            await asyncio.sleep(0.1)

    async with asyncio.timeout(10):
        await poll_until(503)
    noticed = time.monotonic() - away
    assert '"gateway": "shard 0 disconnected"' in unhealthy[0]
    assert (await scrape(bot, "/readyz"))[0] == 503
    await asyncio.sleep(1.0)  # stay away long enough for reconnect attempts to be refused
    assert fake_discord.gateway.refused >= 1

    fake_discord.gateway.come_back()
    back = time.monotonic()
    # discord.py's reconnect backoff is random, up to 2^n s after n refusals.
    async with asyncio.timeout(40):
        await poll_until(200)
    print(f"unhealthy {noticed:.2f} s after the gateway left, healthy "
          f"{time.monotonic() - back:.2f} s after it returned "
          f"({fake_discord.gateway.refused} connections refused meanwhile)")
    found = await samples(bot)
    assert value(found, "interpret_reconnects_total", cause="discord_gateway") == 1
    assert value(found, "interpret_gateway_connected", shard="0") == 1
    assert value(found, "interpret_active_runs") == 1  # the run rode out the outage
