"""Losing the gateway once running: discord.py reconnects; the log says why, at WARNING.

Never an ERROR (nor a traceback) for a routine disconnect: the fake Discord cuts
the gateway's TCP connection without a close frame, as a lost network does, and
optionally answers the next attempt with a 503 before letting the bot resume.
"""

from __future__ import annotations

import logging

import pytest

from bot.app import InterpretBot
from tests.fakes.discord import FakeDiscord
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
