"""Connecting to Discord at start-up: retries, and failures translated to one line.

In-process against the fake Discord, with the same connector the other fake-Discord
tests use (every host name resolves to the fake), so the failures come from real
sockets and a real gateway, with the names discord.py really connects to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
import discord
import pytest

from bot.app import InterpretBot, ShardedInterpretBot, default_intents
from bot.secrets import Secret
from bot.settings import Settings
from bot.startup.discord_failures import TOKEN_REJECTED
from bot.startup.discord_run import ConnectPolicy, run_discord
from bot.startup.errors import ExitStatus, StartupError
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.tls import LoopbackResolver
from tests.support.ports import free_tcp_port
from tests.support.waiting import eventually

POLICY = ConnectPolicy(attempts=3, first_delay=0.5, ready_timeout=10.0)


def settings_for(token: str) -> Settings:
    return Settings(discord_token=Secret(token), pinch_api_token=Secret("unused-pinch"))


class Clients:
    """A client factory that remembers what it made."""

    def __init__(self, token: str, options: Callable[[], dict[str, object]],
                 intents: discord.Intents | None = None,
                 cls: type[InterpretBot] = InterpretBot) -> None:
        self.settings = settings_for(token)
        self._options = options
        self._intents = intents or default_intents()
        self._cls = cls
        self.made: list[InterpretBot] = []

    def __call__(self) -> InterpretBot:
        bot = self._cls(self.settings, intents=self._intents, **self._options())
        self.made.append(bot)
        return bot


class RecordedSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def test_unreachable_discord_is_retried_with_doubling_delays_then_named() -> None:
    dead = free_tcp_port()
    clients = Clients("any-token", lambda: {
        "connector": aiohttp.TCPConnector(resolver=LoopbackResolver(dead))})
    sleep = RecordedSleep()
    with pytest.raises(StartupError) as info:
        await run_discord(clients, clients.settings.discord_token, policy=POLICY, sleep=sleep)
    assert info.value.status is ExitStatus.DISCORD_UNREACHABLE
    assert info.value.message.startswith("cannot reach Discord at discord.com:443: "
                                         "connection refused: check the network")
    assert len(clients.made) == 3
    assert sleep.delays == [0.5, 1.0]
    assert all(bot.is_closed() for bot in clients.made)


async def test_refused_token_is_not_retried(fake_discord: FakeDiscord) -> None:
    clients = Clients("not-the-token", fake_discord.client_options)
    sleep = RecordedSleep()
    with pytest.raises(StartupError) as info:
        await run_discord(clients, clients.settings.discord_token, policy=POLICY, sleep=sleep)
    assert info.value.status is ExitStatus.DISCORD_TOKEN_REJECTED
    assert info.value.message == TOKEN_REJECTED
    assert len(clients.made) == 1
    assert sleep.delays == []


async def test_privileged_intent_not_enabled_names_the_intent(fake_discord: FakeDiscord) -> None:
    fake_discord.world.privileged_intents = 0
    intents = default_intents()
    intents.members = True
    clients = Clients(fake_discord.bot_token, fake_discord.client_options, intents)
    with pytest.raises(StartupError) as info:
        await run_discord(clients, clients.settings.discord_token, policy=POLICY)
    assert info.value.status is ExitStatus.PRIVILEGED_INTENTS
    assert "members (Server Members Intent)" in info.value.message
    assert "Privileged Gateway Intents" in info.value.message
    assert len(clients.made) == 1


async def test_default_intents_need_no_privileged_intent(fake_discord: FakeDiscord) -> None:
    fake_discord.world.privileged_intents = 0
    clients = Clients(fake_discord.bot_token, fake_discord.client_options)
    task = asyncio.create_task(run_discord(clients, clients.settings.discord_token,
                                           policy=POLICY))
    await eventually(lambda: clients.made and clients.made[0].is_ready())
    await clients.made[0].close()
    await asyncio.wait_for(task, 10)  # closing the bot ends the run without an error


async def test_token_reset_while_running_ends_with_the_token_line(
    fake_discord: FakeDiscord,
) -> None:
    clients = Clients(fake_discord.bot_token, fake_discord.client_options)
    task = asyncio.create_task(run_discord(clients, clients.settings.discord_token,
                                           policy=POLICY))
    await eventually(lambda: clients.made and clients.made[0].is_ready())
    fake_discord.world.bot_token = "reset-in-the-developer-portal"
    fake_discord.drop_gateway()
    with pytest.raises(StartupError) as info:
        await asyncio.wait_for(task, 30)  # discord.py waits 5 s before identifying again
    assert info.value.status is ExitStatus.DISCORD_TOKEN_REJECTED
    assert clients.made[0].is_closed()


async def test_gateway_refusing_the_first_connection_is_retried_on_a_fresh_client(
    fake_discord: FakeDiscord,
) -> None:
    fake_discord.gateway.drop(refuse_next=1)  # nothing to drop yet: only the refusal
    clients = Clients(fake_discord.bot_token, fake_discord.client_options)
    sleep = RecordedSleep()
    task = asyncio.create_task(run_discord(clients, clients.settings.discord_token,
                                           policy=POLICY, sleep=sleep))
    await eventually(lambda: len(clients.made) == 2 and clients.made[1].is_ready())
    assert fake_discord.gateway.refused == 1
    assert clients.made[0].is_closed()
    assert sleep.delays == [0.5]
    await clients.made[1].close()
    await asyncio.wait_for(task, 10)


async def test_gateway_refusing_every_connection_ends_naming_the_gateway(
    fake_discord: FakeDiscord,
) -> None:
    fake_discord.gateway.drop(refuse_next=100)
    clients = Clients(fake_discord.bot_token, fake_discord.client_options)
    with pytest.raises(StartupError) as info:
        await run_discord(clients, clients.settings.discord_token, policy=POLICY,
                          sleep=RecordedSleep())
    assert info.value.status is ExitStatus.DISCORD_UNREACHABLE
    assert info.value.message.startswith(
        "the Discord gateway gateway.discord.gg refused the connection (HTTP 503)")
    assert len(clients.made) == 3


async def test_a_sharded_bot_whose_gateway_refuses_is_retried_then_named(
    fake_discord: FakeDiscord,
) -> None:
    # discord.py alone retries a shard that cannot connect for ever, every 5 s.
    fake_discord.gateway.drop(refuse_next=100)
    clients = Clients(fake_discord.bot_token, fake_discord.client_options,
                      cls=ShardedInterpretBot)
    sleep = RecordedSleep()
    with pytest.raises(StartupError) as info:
        await run_discord(clients, clients.settings.discord_token, policy=POLICY, sleep=sleep)
    assert info.value.status is ExitStatus.DISCORD_UNREACHABLE
    assert info.value.message.startswith(
        "the Discord gateway gateway.discord.gg refused the connection (HTTP 503)")
    assert len(clients.made) == 3
    assert sleep.delays == [0.5, 1.0]
    assert all(bot.is_closed() for bot in clients.made)


async def test_the_ready_timeout_runs_again_while_shards_keep_connecting(
    fake_discord: FakeDiscord,
) -> None:
    fake_discord.world.recommended_shards = 3
    clients = Clients(fake_discord.bot_token, fake_discord.client_options,
                      cls=ShardedInterpretBot)
    # Shorter than discord.py's 5 s between two shards' IDENTIFYs: READY for all three
    # comes after 10 s, but a shard connects within every 5.5 s.
    policy = ConnectPolicy(attempts=1, ready_timeout=5.5)
    task = asyncio.create_task(run_discord(clients, clients.settings.discord_token,
                                           policy=policy))
    await eventually(lambda: task.done() or (clients.made and clients.made[0].is_ready()),
                     within=30)
    assert not task.done(), task.exception()
    assert {s.shard for s in fake_discord.gateway.sessions.values()} == {(0, 3), (1, 3), (2, 3)}
    await clients.made[0].close()
    await asyncio.wait_for(task, 10)
