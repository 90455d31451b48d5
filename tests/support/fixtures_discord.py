"""pytest fixtures for the discord fakes (registered by tests/conftest.py).

- ``fake_discord``: a started :class:`~tests.fakes.discord.FakeDiscord` with the
  default guild (text + voice channel, admin, two humans, one other bot). Its
  members' DAVE clients run the ``dave_impl`` fixture's implementation ("davey" by
  default); a DAVE test runs with both by parametrising it
  (``pytestmark = both_dave_impls``).
- ``discord_bot``: our :class:`~bot.app.InterpretBot` logged in to it, connected and
  ready. Its extensions come from the ``discord_bot_extensions`` fixture (override it
  in a test module, default none); ``discord_bot_setup`` may register test-only
  commands on the bot before it syncs.
- ``running_bot(fake, ...)``: the same as an async context manager, for tests that
  need several bots or their own start-up (``build=make_bot``: the class
  ``python -m bot`` picks for the settings' shard plan; default the plain
  :class:`~bot.app.InterpretBot`).

The scripting helpers live on the fake: ``fake_discord.invoke(...)``,
``.speak(member, wav)``, ``.captured_audio()``, ``.messages_in(thread)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import InterpretBot
from bot.secrets import Secret
from bot.settings import Settings
from tests.fakes.dave.clients import DAVE_IMPLS, DaveImpl
from tests.fakes.discord import FakeDiscord

#: A hook run on the constructed bot before login (register test commands here).
BotSetup = Callable[[InterpretBot], None]
#: Builds the bot from its settings and client options (``InterpretBot``, ``make_bot``).
BotBuilder = Callable[..., InterpretBot]

READY_TIMEOUT = 5.0

#: Runs a module's tests with members on davey and on libdave (Discord's clients).
both_dave_impls = pytest.mark.parametrize("dave_impl", DAVE_IMPLS)


def bot_settings(fake: FakeDiscord) -> Settings:
    return Settings(discord_token=Secret(fake.bot_token),
                    pinch_api_token=Secret("fake-pinch-token"))


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord,
    *,
    extensions: tuple[str, ...] = (),
    setup: BotSetup | None = None,
    settings: Settings | None = None,
    build: BotBuilder = InterpretBot,
    ready_within: float = READY_TIMEOUT,
    **client_options: Any,
) -> AsyncIterator[InterpretBot]:
    """An InterpretBot connected to ``fake`` and ready; closed and awaited on exit.

    ``ready_within`` bounds the wait for READY: discord.py IDENTIFYs a process's
    shards 5 s apart, so a bot running several needs more than the default.

    Settings without a ``database_url`` get a SQLite file in a temporary directory
    removed on exit, so no test reads another's state (or the repository's ``data/``).
    """
    options = {**fake.client_options(), **client_options}
    settings = settings or bot_settings(fake)
    scratch: tempfile.TemporaryDirectory[str] | None = None
    if not settings.database_url:
        scratch = tempfile.TemporaryDirectory(prefix="interpret-bot-")
        settings = dataclasses.replace(
            settings, data_dir=Path(scratch.name),
            database_url=f"sqlite:///{Path(scratch.name) / 'interpret.sqlite3'}")
    bot = build(settings, extensions=extensions, **options)
    if setup is not None:
        setup(bot)
    runner: asyncio.Task[None] | None = None
    try:
        await bot.login(fake.bot_token)
        runner = asyncio.create_task(bot.connect(reconnect=True), name="discord-bot-connect")
        ready = asyncio.create_task(bot.wait_until_ready(), name="discord-bot-ready")
        done, _ = await asyncio.wait({runner, ready}, timeout=ready_within,
                                     return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ready
            if runner in done:
                runner.result()  # re-raise why the connection ended
            raise TimeoutError("the bot did not become ready against the fake Discord")
        yield bot
    finally:
        # Runs leave voice as the bot's services close (as in production), and
        # discord.py's close leaves whatever voice is left.
        await bot.close()
        if runner is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        if scratch is not None:
            scratch.cleanup()


@pytest.fixture
def dave_impl() -> DaveImpl:
    return "davey"


@pytest.fixture
async def fake_discord(dave_impl: DaveImpl) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(dave_impl=dave_impl) as fake:
        yield fake


@pytest.fixture
def discord_bot_extensions() -> tuple[str, ...]:
    return ()


@pytest.fixture
def discord_bot_setup() -> BotSetup | None:
    return None


@pytest.fixture
async def discord_bot(
    fake_discord: FakeDiscord,
    discord_bot_extensions: tuple[str, ...],
    discord_bot_setup: BotSetup | None,
) -> AsyncIterator[InterpretBot]:
    async with running_bot(fake_discord, extensions=discord_bot_extensions,
                           setup=discord_bot_setup) as bot:
        yield bot
