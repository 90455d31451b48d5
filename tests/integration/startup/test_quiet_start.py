"""A first ``python -m bot`` that cannot reach Discord, tried as a new user would:
the failure is said once, and libraries' INFO chatter (alembic's plugins and
migrations, discord.py's log-ins) stays out of the log unless ``LOG_LEVEL=DEBUG``.

The real process, from an empty directory (so the store is created and migrated
from scratch), with ``DISCORD_PROXY`` pointing at a port nothing listens on.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.startup.errors import ExitStatus
from tests.fakes.pinch import PinchSimulator
from tests.support.bot_process import PINCH_TOKEN, Finished, bot_env, run_bot, token_check_simulator
from tests.support.ports import free_tcp_port

pytestmark = pytest.mark.timeout(90)

#: ``<date> <time> <LEVEL> <logger>: <message>``, the text log format.
LOG_LINE = re.compile(r"^\S+ \S+ (?P<level>[A-Z]+) +(?P<logger>[\w.]+): ")


@pytest.fixture
async def pinch() -> AsyncIterator[PinchSimulator]:
    async with token_check_simulator() as sim:
        yield sim


async def start_without_discord(pinch: PinchSimulator, tmp_path: Path,
                                **more: str) -> tuple[Finished, str]:
    """A first start whose Discord is unreachable; the result and the unreachable address."""
    address = f"127.0.0.1:{free_tcp_port()}"
    env = bot_env({"DISCORD_TOKEN": "any-token", "PINCH_API_TOKEN": PINCH_TOKEN,
                   "PINCH_BASE_URL": pinch.base_url, "DISCORD_PROXY": f"http://{address}",
                   **more})
    result = await run_bot(env, tmp_path)
    assert result.returncode == ExitStatus.DISCORD_UNREACHABLE, result.stderr
    return result, address


def loggers_at(stderr: str, level: str) -> set[str]:
    return {match["logger"] for line in stderr.splitlines()
            if (match := LOG_LINE.match(line)) and match["level"] == level}


async def test_discord_unreachable_at_start_is_said_in_exactly_one_line(
    pinch: PinchSimulator, tmp_path: Path,
) -> None:
    result, address = await start_without_discord(pinch, tmp_path)
    assert [line for line in result.stderr.splitlines() if address in line] == [
        f"interpret-bot: cannot reach the proxy {address}: connection refused: "
        "check DISCORD_PROXY"]
    assert result.stderr.count("trying again in") == 2  # the retries still show


async def test_a_first_start_logs_only_the_bots_own_info_lines(
    pinch: PinchSimulator, tmp_path: Path,
) -> None:
    result, _address = await start_without_discord(pinch, tmp_path)
    info = loggers_at(result.stderr, "INFO")
    assert info  # the bot's own (store open, starting)
    assert {name for name in info if name.split(".")[0] != "bot"} == set(), result.stderr
    assert "alembic" not in result.stderr


async def test_debug_log_level_shows_the_libraries_details(
    pinch: PinchSimulator, tmp_path: Path,
) -> None:
    result, _address = await start_without_discord(pinch, tmp_path, LOG_LEVEL="DEBUG")
    assert "alembic.runtime.migration" in loggers_at(result.stderr, "INFO")
    assert "discord.client" in loggers_at(result.stderr, "INFO")
