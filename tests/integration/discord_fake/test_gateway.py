"""Gateway resilience: op 7 RECONNECT followed by RESUME keeps the session."""

from __future__ import annotations

from bot.app import InterpretBot
from tests.fakes.discord import FakeDiscord


async def test_bot_survives_gateway_reconnect_by_resuming(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    await fake_discord.reconnect_gateway()
    [session] = fake_discord.gateway.sessions.values()
    assert (fake_discord.gateway.identifies, session.resumes) == (1, 1)
    record = await fake_discord.invoke("echo say", text="still here")
    assert record.texts == ["still here"]


async def test_events_sent_while_reconnecting_are_replayed(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    await fake_discord.reconnect_gateway(wait=False)
    # Dispatched while the bot drops its socket: only the RESUME replay delivers it.
    record = await fake_discord.invoke("echo say", text="one")
    [session] = fake_discord.gateway.sessions.values()
    assert session.resumes == 1
    assert record.texts == ["one"]
