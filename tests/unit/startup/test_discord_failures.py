"""Translation of discord.py's failures that the fake Discord does not produce.

The common ones (refused token, refused/unresolvable/untrusted connection,
privileged intents, 503 from the gateway) are exercised for real against the fake
in tests/integration/startup; these are the rarer gateway close codes and REST
answers, built the way discord.py builds them.
"""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.startup.discord_failures import TOKEN_REJECTED, describe, discord_failure
from bot.startup.errors import ExitStatus


class _Socket:
    """What discord.ConnectionClosed reads from the websocket it wraps."""

    def __init__(self, code: int) -> None:
        self.close_code = code


class _Response:
    """What discord.HTTPException reads from the aiohttp response it wraps."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason


def closed(code: int) -> discord.ConnectionClosed:
    return discord.ConnectionClosed(_Socket(code), shard_id=None, code=code)  # type: ignore[arg-type]


def test_gateway_authentication_failure_is_the_token_line() -> None:
    failure = discord_failure(closed(4004))
    assert failure is not None
    assert failure.status is ExitStatus.DISCORD_TOKEN_REJECTED
    assert failure.message == TOKEN_REJECTED


def test_sharding_required_is_named_with_its_close_code() -> None:
    failure = discord_failure(closed(4011))
    assert failure is not None
    assert failure.message.startswith(
        "Discord closed the gateway connection with code 4011 (sharding required)")


def test_discord_server_error_is_an_outage_worth_retrying() -> None:
    error: Any = discord.DiscordServerError(_Response(503, "Service Unavailable"),  # type: ignore[arg-type]
                                            "upstream connect error")
    failure = discord_failure(error)
    assert failure is not None
    assert failure.retryable
    assert "Discord answered HTTP 503" in failure.message
    assert "discordstatus.com" in failure.message


def test_a_bug_while_handling_a_connection_error_is_traced_to_that_error() -> None:
    # discord.py's reconnect loop can fail on its own bookkeeping (``self.ws`` is
    # still None when the very first gateway connection fails).
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError:
            None.sequence  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        failure = discord_failure(exc)
    assert failure is not None
    assert failure.status is ExitStatus.DISCORD_UNREACHABLE
    assert "connection refused" in failure.message


def test_an_unknown_error_is_not_dressed_up_as_a_start_up_failure() -> None:
    assert discord_failure(KeyError("bug")) is None
    assert describe(KeyError("bug")) == "KeyError: 'bug'"


@pytest.mark.parametrize("intent", ["presences", "message_content"])
def test_privileged_intent_message_names_each_intent_asked_for(intent: str) -> None:
    intents = discord.Intents.none()
    setattr(intents, intent, True)
    failure = discord_failure(discord.PrivilegedIntentsRequired(None), intents=intents)
    assert failure is not None
    assert failure.status is ExitStatus.PRIVILEGED_INTENTS
    assert intent in failure.message
