"""Threads, messages and webhooks, with the real API's validation errors."""

from __future__ import annotations

import asyncio

import discord
import pytest

from bot.app import InterpretBot
from tests.fakes.discord import FakeDiscord, Permission
from tests.support.fixtures_discord import running_bot


def text_channel(fake: FakeDiscord, bot: InterpretBot) -> discord.TextChannel:
    channel = bot.get_channel(fake.text_channel.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_command_creates_thread_and_posts_into_it(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    record = await fake_discord.invoke("thread open", name="Interpretation")
    [thread] = fake_discord.threads_in(fake_discord.text_channel)
    assert thread.name == "Interpretation"
    [message] = fake_discord.messages_in(thread)
    assert message.content.startswith("Transcript for <@")
    assert message.allowed_mentions == {"parse": []}
    assert record.texts == [f"opened <#{thread.id}>"]


async def test_thread_create_reaches_the_bot_over_the_gateway(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    created = await text_channel(fake_discord, discord_bot).create_thread(
        name="live", type=discord.ChannelType.public_thread)
    await fake_discord.wait_for(lambda: discord_bot.get_channel(created.id), what="THREAD_CREATE")


async def test_thread_from_a_message_takes_the_message_id(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    message = await text_channel(fake_discord, discord_bot).send("start")
    thread = await message.create_thread(name="from message")
    assert thread.id == message.id


async def test_bot_edits_and_deletes_its_messages(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    message = await text_channel(fake_discord, discord_bot).send("draft")
    await message.edit(content="final")
    assert [m.content for m in fake_discord.messages_in(fake_discord.text_channel)] == ["final"]
    await message.delete()
    assert fake_discord.messages_in(fake_discord.text_channel) == []


async def test_webhook_posts_into_a_thread_under_a_speaker_name(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    channel = text_channel(fake_discord, discord_bot)
    thread = await channel.create_thread(name="t", type=discord.ChannelType.public_thread)
    webhook = await channel.create_webhook(name="Interpreter")
    await webhook.send("hello", username="Alice (es)", avatar_url="https://example.invalid/a.png",
                       thread=thread, wait=True)
    [message] = fake_discord.messages_in(thread.id)
    assert (message.username, message.avatar_url, message.webhook_id) == (
        "Alice (es)", "https://example.invalid/a.png", webhook.id)


async def test_content_over_2000_characters_is_invalid_form_body(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    with pytest.raises(discord.HTTPException) as info:
        await text_channel(fake_discord, discord_bot).send("x" * 2001)
    assert (info.value.status, info.value.code) == (400, 50035)


async def test_empty_message_is_rejected(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    with pytest.raises(discord.HTTPException) as info:
        await text_channel(fake_discord, discord_bot).send("")
    assert (info.value.status, info.value.code) == (400, 50006)


async def test_sending_without_permission_is_forbidden(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    fake_discord.set_bot_permission(fake_discord.text_channel, deny=Permission.SEND_MESSAGES)
    with pytest.raises(discord.Forbidden) as info:
        await text_channel(fake_discord, discord_bot).send("hi")
    assert info.value.code == 50013


async def test_unknown_channel_is_not_found(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    with pytest.raises(discord.NotFound) as info:
        await discord_bot.http.send_message(123, params=discord.http.handle_message_parameters(
            content="hi"))
    assert info.value.code == 10003


async def test_webhook_name_containing_discord_is_rejected(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    with pytest.raises(discord.HTTPException) as info:
        await text_channel(fake_discord, discord_bot).create_webhook(name="my discord hook")
    assert info.value.code == 50035


async def test_rate_limited_request_is_retried_after_retry_after(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    fake_discord.rest.rate_limit("POST", r"^/channels/\d+/messages$", times=1, retry_after=0.05)
    await text_channel(fake_discord, discord_bot).send("eventually")
    statuses = [c.status for c in fake_discord.rest_calls("POST", "/messages")]
    assert statuses == [429, 200]
    assert [m.content for m in fake_discord.messages_in(fake_discord.text_channel)] == [
        "eventually"]


async def test_member_lookup_returns_the_guild_member(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    guild = discord_bot.get_guild(fake_discord.guild.id)
    assert guild is not None
    alice = await guild.fetch_member(fake_discord.member("alice").id)
    assert alice.display_name == "Alice"


async def test_member_messages_reach_a_bot_with_the_messages_intent(
    fake_discord: FakeDiscord,
) -> None:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    async with running_bot(fake_discord, intents=intents) as bot:
        waiting = asyncio.ensure_future(bot.wait_for("message", timeout=5))
        await fake_discord.post_message("alice", fake_discord.text_channel, "bonjour")
        message = await waiting
    assert (message.author.id, message.content) == (fake_discord.member("alice").id, "bonjour")


async def test_bot_archives_its_thread(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    thread = await text_channel(fake_discord, discord_bot).create_thread(
        name="done soon", type=discord.ChannelType.public_thread)
    await thread.edit(archived=True)
    [model] = fake_discord.threads_in(fake_discord.text_channel)
    assert model.archived
