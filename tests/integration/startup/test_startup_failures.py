"""``python -m bot`` start-up failures: one clear line on stderr, no traceback, own status.

Each test runs the real process the way a user would, against the fake Discord
(reached through ``DISCORD_PROXY``, trusting its CA) and a Pinch simulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.startup.discord_failures import TOKEN_REJECTED
from bot.startup.errors import ExitStatus
from tests.fakes.pinch import PinchSimulator
from tests.support.bot_process import (
    PINCH_TOKEN,
    DiscordRoute,
    bot_env,
    discord_route,
    interrupt,
    run_bot,
    started_bot,
    token_check_simulator,
)
from tests.support.ports import free_tcp_port
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def pinch() -> AsyncIterator[PinchSimulator]:
    async with token_check_simulator() as sim:
        yield sim


@pytest.fixture
async def route(tmp_path: Path) -> AsyncIterator[DiscordRoute]:
    async with discord_route(tmp_path) as r:
        yield r


def env_for(pinch: PinchSimulator, discord_token: str, **more: str) -> dict[str, str]:
    return bot_env({"DISCORD_TOKEN": discord_token, "PINCH_API_TOKEN": PINCH_TOKEN,
                    "PINCH_BASE_URL": pinch.base_url, **more})


def assert_no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert " ERROR " not in stderr
    assert " CRITICAL " not in stderr


async def test_token_refused_by_discord_says_how_to_reset_it_and_exits_3(
    tmp_path: Path, pinch: PinchSimulator, route: DiscordRoute
) -> None:
    env = env_for(pinch, "not-the-bot-token", **route.env())
    result = await run_bot(env, tmp_path)
    assert result.returncode == ExitStatus.DISCORD_TOKEN_REJECTED == 3
    assert result.only_failure_line() == TOKEN_REJECTED
    assert_no_traceback(result.stderr)
    # It really was Discord (the fake) that refused it, over the proxy.
    assert "discord.com:443" in route.proxy.requests
    assert [c.status for c in route.fake.world.rest_calls if c.path.endswith("/users/@me")] \
        == [401]


async def test_discord_port_with_nothing_listening_is_retried_then_named_and_exits_4(
    tmp_path: Path, pinch: PinchSimulator
) -> None:
    dead = free_tcp_port()
    env = env_for(pinch, "any-token", DISCORD_PROXY=f"http://127.0.0.1:{dead}")
    result = await run_bot(env, tmp_path)
    assert result.returncode == ExitStatus.DISCORD_UNREACHABLE == 4
    line = result.only_failure_line()
    assert f"127.0.0.1:{dead}" in line
    assert "connection refused" in line
    assert_no_traceback(result.stderr)
    assert result.stderr.count("trying again in") == 2  # three attempts in all


async def test_unresolvable_host_name_is_named_with_the_dns_failure_and_exits_4(
    tmp_path: Path, pinch: PinchSimulator
) -> None:
    env = env_for(pinch, "any-token", DISCORD_PROXY="http://discord-proxy.invalid:3128")
    result = await run_bot(env, tmp_path)
    assert result.returncode == ExitStatus.DISCORD_UNREACHABLE
    line = result.only_failure_line()
    assert "discord-proxy.invalid" in line
    assert "DNS lookup failed" in line
    assert_no_traceback(result.stderr)


async def test_untrusted_tls_certificate_names_discord_and_the_cause_and_exits_4(
    tmp_path: Path, pinch: PinchSimulator, route: DiscordRoute
) -> None:
    # The proxy reaches the fake, but the process does not trust the fake's CA.
    env = env_for(pinch, route.fake.bot_token, DISCORD_PROXY=route.proxy.url)
    result = await run_bot(env, tmp_path)
    assert result.returncode == ExitStatus.DISCORD_UNREACHABLE
    line = result.only_failure_line()
    assert "discord.com:443" in line
    assert "TLS certificate not trusted" in line
    assert_no_traceback(result.stderr)


async def test_missing_libopus_names_the_package_and_exits_6(
    tmp_path: Path, pinch: PinchSimulator
) -> None:
    env = env_for(pinch, "any-token", OPUS_LIBRARY="libopus-does-not-exist.so.0")
    result = await run_bot(env, tmp_path)
    assert result.returncode == ExitStatus.OPUS_MISSING == 6
    line = result.only_failure_line()
    assert "libopus-does-not-exist.so.0" in line
    assert "install the libopus0 package" in line
    assert_no_traceback(result.stderr)
    assert pinch.calls == []  # nothing remote is tried before the local checks pass


async def test_an_unopenable_database_path_is_named_and_exits_7(
    tmp_path: Path, pinch: PinchSimulator
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    env = env_for(pinch, "any-token", DATA_DIR=str(blocker / "data"))
    result = await run_bot(env, tmp_path)
    assert result.returncode == ExitStatus.STORE_UNAVAILABLE == 7
    line = result.only_failure_line()
    assert "cannot open the store at sqlite" in line
    assert str(blocker) in line
    assert_no_traceback(result.stderr)


async def test_pinch_token_refused_names_the_variable_and_exits_9(tmp_path: Path) -> None:
    async with token_check_simulator(api_token="the-real-pinch-token") as sim:
        result = await run_bot(env_for(sim, "any-token"), tmp_path)
    assert result.returncode == ExitStatus.PINCH_REFUSED == 9
    line = result.only_failure_line()
    assert "refused the token" in line
    assert "PINCH_API_TOKEN" in line
    assert PINCH_TOKEN not in result.stderr + result.stdout
    assert_no_traceback(result.stderr)
    assert sim.sessions == []


async def test_pinch_api_unreachable_names_the_url_and_exits_8(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_tcp_port()}"
    env = bot_env({"DISCORD_TOKEN": "any-token", "PINCH_API_TOKEN": PINCH_TOKEN,
                   "PINCH_BASE_URL": url})
    result = await run_bot(env, tmp_path)
    assert result.returncode == ExitStatus.PINCH_UNREACHABLE == 8
    line = result.only_failure_line()
    assert url in line
    assert "connection refused" in line
    assert "PINCH_BASE_URL" in line
    assert_no_traceback(result.stderr)


async def test_debug_log_level_puts_the_failure_traceback_in_the_log(
    tmp_path: Path, pinch: PinchSimulator
) -> None:
    env = env_for(pinch, "any-token", OPUS_LIBRARY="libopus-does-not-exist.so.0",
                  LOG_LEVEL="DEBUG")
    result = await run_bot(env, tmp_path)
    assert result.returncode == ExitStatus.OPUS_MISSING
    assert "DEBUG" in result.stderr
    assert "Traceback" in result.stderr
    assert "install the libopus0 package" in result.only_failure_line()


async def test_bot_with_good_tokens_connects_and_stops_quietly_on_ctrl_c(
    tmp_path: Path, pinch: PinchSimulator, route: DiscordRoute
) -> None:
    env = env_for(pinch, route.fake.bot_token, **route.env())
    async with started_bot(env, tmp_path) as process:
        await eventually(lambda: route.fake.gateway.identifies == 1, within=30)
        result = await interrupt(process)
    assert result.returncode == ExitStatus.OK
    assert result.failure_lines == []
    assert_no_traceback(result.stderr)
    assert pinch.sessions == []
