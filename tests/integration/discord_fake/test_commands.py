"""Login, command sync and slash commands: unmodified discord.py against the fake."""

from __future__ import annotations

import aiohttp
import discord
import pytest

from bot.app import InterpretBot
from tests.fakes.discord import FakeDiscord
from tests.support.fixtures_discord import running_bot


async def test_bot_logs_in_with_its_token_and_reads_application_info(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    assert discord_bot.user is not None
    assert discord_bot.user.id == fake_discord.bot_user_id
    paths = [c.path for c in fake_discord.rest_calls("GET")]
    assert paths[:2] == ["/users/@me", "/oauth2/applications/@me"]
    assert discord_bot.application_id == fake_discord.world.application.id


async def test_wrong_token_is_refused_as_login_failure(fake_discord: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.none(), **fake_discord.client_options())
    try:
        with pytest.raises(discord.LoginFailure):
            await client.login("not-the-token")
    finally:
        await client.close()


async def test_setup_hook_syncs_the_command_tree_globally(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    synced = {c["name"] for c in fake_discord.world.commands[None]}
    assert synced == {"echo", "thread"}
    assert len(fake_discord.rest_calls("PUT", "/commands")) == 1


async def test_guild_commands_sync_to_the_guild(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    guild = discord.Object(fake_discord.guild.id)
    discord_bot.tree.copy_global_to(guild=guild)
    synced = await discord_bot.tree.sync(guild=guild)
    assert {c.name for c in synced} == {"echo", "thread"}
    assert {c["guild_id"] for c in fake_discord.world.commands[fake_discord.guild.id]} == {
        str(fake_discord.guild.id)}


async def test_subcommand_with_options_is_answered(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    bob = fake_discord.member("bob")
    record = await fake_discord.invoke("echo say", user="alice", text="hola", times=2, who=bob)
    assert record.texts == ["hola hola for Bob"]
    assert record.ephemeral
    assert record.user_id == fake_discord.member("alice").id


async def test_deferred_command_edits_original_and_follows_up(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    record = await fake_discord.invoke("echo slow", text="x")
    await fake_discord.wait_for(lambda: record.followups, what="the followup")
    assert record.response_type == 5
    assert record.texts == ["slow x", "and again x"]


async def test_autocomplete_offers_matching_choices(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    choices = await fake_discord.autocomplete("echo lang", "target", target="es")
    assert [c["value"] for c in choices] == ["es-ES"]


async def test_a_second_bot_can_run_against_its_own_fake() -> None:
    async with FakeDiscord() as fake, running_bot(fake) as bot:
        assert bot.is_ready()
        assert bot.get_guild(fake.guild.id) is not None


async def test_answering_an_interaction_twice_is_rejected_like_discord(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    record = await fake_discord.invoke("echo say", text="once")
    url = f"https://discord.com/api/v10/interactions/{record.id}/{record.token}/callback"
    async with aiohttp.ClientSession(connector=fake_discord.connector()) as session, \
            session.post(url, json={"type": 4, "data": {"content": "twice"}}) as response:
        body = await response.json()
    assert (response.status, body["code"]) == (400, 40060)
    assert record.texts == ["once"]
