"""Commands are synced only when their definitions changed, or on `python -m bot sync`."""

from __future__ import annotations

from pathlib import Path

from bot.app import sync_now
from tests.e2e.commands.conftest import RunClock, interpret_bot, interpret_settings
from tests.fakes.discord import FakeDiscord
from tests.fakes.pinch import PinchSimulator


def puts(fake: FakeDiscord) -> int:
    return len(fake.rest_calls("PUT", "/commands"))


async def test_the_first_start_syncs_the_interpret_group(
    fake_discord: FakeDiscord, simulator: PinchSimulator, tmp_path: Path,
) -> None:
    settings = interpret_settings(fake_discord, simulator, tmp_path)
    async with interpret_bot(fake_discord, settings, RunClock()) as bot:
        assert bot.commands_synced
    [command] = fake_discord.world.commands[None]
    assert command["name"] == "interpret"
    assert {o["name"] for o in command["options"]} == {
        "start", "stop", "status", "languages", "config", "me", "transcript"}
    assert puts(fake_discord) == 1


async def test_a_restart_with_unchanged_commands_does_not_sync(
    fake_discord: FakeDiscord, simulator: PinchSimulator, tmp_path: Path,
) -> None:
    settings = interpret_settings(fake_discord, simulator, tmp_path)
    async with interpret_bot(fake_discord, settings, RunClock()):
        pass
    async with interpret_bot(fake_discord, settings, RunClock()) as again:
        assert not again.commands_synced
        # ...and the commands registered by the first start still answer.
        await fake_discord.wait_for(lambda: again.is_ready(), what="ready")
    assert puts(fake_discord) == 1


async def test_sync_command_forces_a_sync(
    fake_discord: FakeDiscord, simulator: PinchSimulator, tmp_path: Path,
) -> None:
    settings = interpret_settings(fake_discord, simulator, tmp_path)
    async with interpret_bot(fake_discord, settings, RunClock()):
        pass

    assert await sync_now(settings, connector=fake_discord.connector())

    assert puts(fake_discord) == 2
