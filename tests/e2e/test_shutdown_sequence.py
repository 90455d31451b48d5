"""The shutdown sequence in order, in-process: starts refused, a notice in each running
channel, voice left before the flush hooks run, the gateway closed last."""

from __future__ import annotations

import discord
import pytest

from bot.app import InterpretBot
from bot.interpretation.manager import NotAccepting
from bot.interpretation.run import RunConfig
from bot.secrets import Secret
from bot.settings import Settings
from bot.shutdown import NOTICE, GracefulShutdown
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.model import ChannelType, Permission
from tests.support.fixtures_discord import running_bot


def settings_for(fake: FakeDiscord) -> Settings:
    # No speech in these tests: no Pinch session is ever requested.
    return Settings(discord_token=Secret(fake.bot_token),
                    pinch_api_token=Secret("pinch-test-token-0123456789"),
                    pinch_base_url="http://127.0.0.1:9")


async def start(bot: InterpretBot, channel_id: int) -> None:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.VoiceChannel)
    assert bot.interpretations is not None
    assert bot.user is not None
    await bot.interpretations.start(channel, RunConfig(target_language="es-ES"),
                                    own_user_id=bot.user.id)


async def test_the_sequence_refuses_starts_notifies_leaves_voice_then_flushes(
    fake_discord: FakeDiscord,
) -> None:
    seen: dict[str, object] = {}
    async with running_bot(fake_discord, settings=settings_for(fake_discord)) as bot:
        await start(bot, fake_discord.voice_channel.id)
        await fake_discord.wait_bot_voice_ready()

        async def flush() -> None:
            seen["in_voice"] = fake_discord.guild.voice_states.get(fake_discord.bot_user_id)
            seen["ready"] = (await bot.health.readiness()).ok
            seen["closed"] = bot.is_closed()
            try:
                await start(bot, fake_discord.voice_channel.id)
            except NotAccepting as exc:
                seen["refused"] = str(exc)

        bot.add_flush_hook(flush)
        assert await GracefulShutdown(bot, timeout_s=10).run()
        assert bot.is_closed()

    assert [m.content for m in fake_discord.messages_in(fake_discord.voice_channel)] == [NOTICE]
    state = seen["in_voice"]
    assert state is None or getattr(state, "channel_id", None) is None
    assert seen["ready"] is False
    assert seen["closed"] is False  # the gateway closes after the flush
    assert seen["refused"] == "The bot is restarting; try again in a minute."


async def test_a_channel_where_the_bot_cannot_post_still_stops_cleanly(
    fake_discord: FakeDiscord,
) -> None:
    fake_discord.set_bot_permission(fake_discord.voice_channel, deny=Permission.SEND_MESSAGES)
    async with running_bot(fake_discord, settings=settings_for(fake_discord)) as bot:
        await start(bot, fake_discord.voice_channel.id)
        await fake_discord.wait_bot_voice_ready()
        assert await GracefulShutdown(bot, timeout_s=10).run()
        assert bot.voice_clients == []
    assert fake_discord.messages_in(fake_discord.voice_channel) == []
    forbidden = fake_discord.rest_calls("POST", f"/channels/{fake_discord.voice_channel.id}/")
    assert [c.status for c in forbidden] == [403]


@pytest.mark.parametrize("runs", [0, 2])
async def test_every_running_channel_gets_one_notice(fake_discord: FakeDiscord,
                                                     runs: int) -> None:
    # Discord allows one voice connection per guild: the second run is in a second guild.
    from tests.fakes.discord.sharding import add_guild_on_shard

    other = add_guild_on_shard(fake_discord.world, "Second", (0, 1))
    channels = [fake_discord.voice_channel.id,
                next(c.id for c in other.channels.values() if c.type == ChannelType.VOICE)]
    async with running_bot(fake_discord, settings=settings_for(fake_discord)) as bot:
        for channel_id in channels[:runs]:
            await start(bot, channel_id)
        assert await GracefulShutdown(bot, timeout_s=10).run()
    notices = [m for m in fake_discord.world.messages.values() if m.content == NOTICE]
    assert sorted(m.channel_id for m in notices) == sorted(channels[:runs])
