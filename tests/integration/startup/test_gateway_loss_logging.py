"""Losing the gateway once running: discord.py reconnects; the log says why, at WARNING.

Never an ERROR (nor a traceback) for a routine disconnect: the fake Discord cuts
the gateway's TCP connection without a close frame, as a lost network does, and
optionally answers the next attempt with a 503 before letting the bot resume. The
same for each shard of a bot running several (discord.py's auto-sharded client).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

import pytest

from bot.app import InterpretBot, make_bot
from tests.fakes.discord import FakeDiscord
from tests.support.fixtures_discord import running_bot
from tests.support.waiting import eventually


def resumed(fake: FakeDiscord) -> bool:
    return any(s.resumes >= 1 and s.ws is not None for s in fake.gateway.sessions.values())


def at_least(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= level]


async def test_dropped_gateway_is_one_warning_with_its_cause_then_resumes(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    fake_discord.drop_gateway()
    await eventually(lambda: resumed(fake_discord))
    await eventually(lambda: discord_bot.gateway_watch.up)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "lost the Discord gateway connection (close code 1006: the connection dropped "
        "without a close frame); discord.py is reconnecting"
    ]
    assert any(r.getMessage().startswith("Discord gateway back after")
               and r.getMessage().endswith("(resumed)") for r in caplog.records)
    assert at_least(caplog, logging.ERROR) == []


async def test_failed_reconnect_attempt_is_a_warning_naming_the_cause_without_traceback(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    fake_discord.drop_gateway(refuse_next=1)
    await eventually(lambda: resumed(fake_discord))
    assert fake_discord.gateway.refused == 1
    [attempt] = [r for r in caplog.records if r.name == "discord.client"
                 and r.levelno >= logging.WARNING]
    assert attempt.levelno == logging.WARNING
    assert attempt.getMessage().startswith(
        "Discord gateway reconnect failed (the Discord gateway gateway-us-east1-b.discord.gg "
        "refused the connection (HTTP 503)); discord.py retries in ")
    assert attempt.exc_info is None
    assert at_least(caplog, logging.ERROR) == []
    assert discord_bot.gateway_watch.losses == 1  # one loss, however many attempts


async def test_debug_level_keeps_the_reconnect_traceback(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_discord.drop_gateway(refuse_next=1)
    await eventually(lambda: resumed(fake_discord))
    [attempt] = [r for r in caplog.records if r.name == "discord.client"
                 and r.levelno >= logging.WARNING]
    assert attempt.levelno == logging.WARNING
    assert attempt.exc_info is not None


async def test_closing_the_bot_is_not_reported_as_a_lost_connection(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await discord_bot.close()
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert discord_bot.gateway_watch.losses == 0


@pytest.fixture
async def sharded_bot(fake_discord: FakeDiscord) -> AsyncIterator[InterpretBot]:
    """The bot ``python -m bot`` runs without shard settings: every shard Discord
    recommends (two here), on discord.py's auto-sharded client."""
    fake_discord.world.recommended_shards = 2
    async with running_bot(fake_discord, build=make_bot, ready_within=20) as bot:
        yield bot


async def test_a_dropped_shard_is_one_warning_per_shard_naming_it_and_its_cause(
    fake_discord: FakeDiscord, sharded_bot: InterpretBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    fake_discord.drop_gateway()
    await eventually(lambda: sum(s.resumes for s in fake_discord.gateway.sessions.values()) == 2)
    await eventually(lambda: all(state.connected for state in sharded_bot.shard_states()))
    warnings = sorted(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert warnings == [
        f"lost the Discord gateway connection of shard {shard} (close code 1006: the "
        "connection dropped without a close frame); discord.py is reconnecting"
        for shard in (0, 1)]
    assert at_least(caplog, logging.ERROR) == []


async def test_a_shards_failed_reconnect_attempt_is_a_warning_naming_the_cause(
    fake_discord: FakeDiscord, sharded_bot: InterpretBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    fake_discord.drop_gateway(refuse_next=1)
    await eventually(lambda: fake_discord.gateway.refused == 1)
    # The refused shard IDENTIFYs anew after discord.py's back-off and its 5 s spacing.
    await eventually(lambda: fake_discord.gateway.identifies == 3, within=20)
    [attempt] = [r for r in caplog.records if r.name == "discord.shard"
                 and r.levelno >= logging.WARNING]
    assert attempt.levelno == logging.WARNING
    assert re.match(r"Discord gateway shard \d reconnect failed \(the Discord gateway "
                    r"gateway-us-east1-b\.discord\.gg refused the connection \(HTTP 503\)\); "
                    r"discord\.py retries in ", attempt.getMessage()), attempt.getMessage()
    assert attempt.exc_info is None
    assert at_least(caplog, logging.ERROR) == []
