"""Who may do what: Manage Channels or the manager role for start/stop/config, only on
channels the manager can see and join (and transcripts only where they can post), `me`
for everyone, and no guild reaching another's settings."""

from __future__ import annotations

import pytest

from tests.e2e.commands.conftest import Interpret
from tests.fakes.discord.model import ChannelType, Permission

REFUSED = "You need the Manage Channels permission in this channel to do that."


async def test_a_member_without_rights_cannot_start(interpret: Interpret) -> None:
    await interpret.join("alice")
    record = await interpret.invoke("start", user="alice", target="es")
    assert record.ephemeral
    assert record.texts == [REFUSED]
    assert not interpret.bot.voice_clients


async def test_a_member_without_rights_cannot_configure_or_stop(interpret: Interpret) -> None:
    await interpret.join("admin", "alice")
    config = await interpret.invoke("config", user="alice", target="fr")
    server = await interpret.invoke("config", user="alice", scope="server", target="fr")
    await interpret.start(target="es")
    stop = await interpret.invoke("stop", user="alice")

    assert config.texts == [REFUSED]
    assert server.texts == ["You need the Manage Channels permission in this server to do that."]
    assert stop.texts == [REFUSED]
    assert interpret.bot.interpretations.get(interpret.fake.guild.id) is not None
    shown = await interpret.invoke("config", channel=interpret.fake.voice_channel)
    assert "• `target`: not set — built-in default" in shown.texts[0]


async def test_everyone_may_set_their_own_preferences(interpret: Interpret) -> None:
    record = await interpret.invoke("me", user="bob", language="de")
    assert record.ephemeral
    assert record.texts[0].startswith("Saved.")


async def test_the_manager_role_may_start_configure_and_stop(interpret: Interpret) -> None:
    role = await interpret.fake.add_role("Interpreters")
    await interpret.invoke("config", scope="server", manager_role=role)
    interpret.fake.give_role("alice", role)
    await interpret.join("alice")

    config = await interpret.invoke("config", user="alice", target="fr")
    await interpret.start(user="alice")
    stop = await interpret.invoke("stop", user="alice")

    assert config.texts[0].startswith("Saved.")
    assert "• `manager_role`: <@&" in config.texts[0]
    assert await interpret.public_answer(stop) == (
        f"Stopped interpreting <#{interpret.fake.voice_channel.id}>.")
    refused = await interpret.invoke("start", user="bob", target="es",
                                     channel=interpret.fake.voice_channel)
    assert refused.texts == ["You need the Manage Channels permission or the interpretation "
                             "manager role in this channel to do that."]


async def test_a_guild_can_neither_read_nor_change_another_guilds_configuration(
    interpret: Interpret,
) -> None:
    fake = interpret.fake
    await interpret.invoke("config", scope="server", target="de", max_speakers=3)
    other = await fake.add_guild("Other")
    there = next(c for c in other.channels.values() if c.name == "general")

    seen = await interpret.invoke("config", user=None, where=there, scope="server")
    changed = await interpret.invoke("config", user=None, where=there, scope="server",
                                     target="fr", max_speakers=5)
    ours = await interpret.invoke("config", scope="server")

    assert "• `target`: not set — built-in default" in seen.texts[0]
    assert "• `max_speakers`: 8 — built-in default" in seen.texts[0]
    assert "• `target`: French (France) (`fr-FR`) — server" in changed.texts[0]
    assert "• `target`: German (Germany) (`de-DE`) — server" in ours.texts[0]
    assert "• `max_speakers`: 3 — server" in ours.texts[0]


async def manager(interpret: Interpret, name: str, how: str) -> None:
    """Make ``name`` a manager: the server's manager role, or Manage Channels."""
    if how == "manager role":
        role = await interpret.fake.add_role("Interpreters")
        await interpret.invoke("config", scope="server", manager_role=role)
    else:
        role = await interpret.fake.add_role("Moderators", Permission.MANAGE_CHANNELS)
    interpret.fake.give_role(name, role)


@pytest.mark.parametrize("how", ["manager role", "Manage Channels"])
async def test_a_manager_cannot_start_in_a_channel_they_cannot_connect_to(
    interpret: Interpret, how: str,
) -> None:
    voice = interpret.fake.voice_channel
    await manager(interpret, "alice", how)
    await interpret.deny(voice, "alice", Permission.CONNECT)

    record = await interpret.invoke("start", user="alice", target="es", channel=voice)

    assert record.ephemeral
    assert record.texts == [f"You cannot connect to <#{voice.id}>, so you cannot manage its "
                            "interpretation."]
    assert not interpret.bot.voice_clients


async def test_a_manager_cannot_stop_a_run_in_a_channel_they_cannot_see(
    interpret: Interpret,
) -> None:
    voice = interpret.fake.voice_channel
    await manager(interpret, "alice", "manager role")
    await interpret.join("admin")
    await interpret.start(target="es")
    await interpret.deny(voice, "alice", Permission.VIEW_CHANNEL)

    record = await interpret.invoke("stop", user="alice")

    assert record.texts == [f"You cannot see <#{voice.id}>, so you cannot manage its "
                            "interpretation."]
    assert interpret.bot.interpretations.get(interpret.fake.guild.id) is not None


async def test_a_manager_cannot_configure_a_channel_they_cannot_connect_to(
    interpret: Interpret,
) -> None:
    voice = interpret.fake.voice_channel
    await manager(interpret, "alice", "manager role")
    await interpret.deny(voice, "alice", Permission.CONNECT)

    record = await interpret.invoke("config", user="alice", channel=voice, target="fr")

    assert record.texts == [f"You cannot connect to <#{voice.id}>, so you cannot manage its "
                            "interpretation."]
    shown = await interpret.invoke("config", channel=voice)
    assert "• `target`: not set — built-in default" in shown.texts[0]


async def test_a_manager_cannot_send_transcripts_where_they_cannot_post(
    interpret: Interpret,
) -> None:
    fake = interpret.fake
    closed = await fake.add_channel("announcements", ChannelType.TEXT)
    await manager(interpret, "alice", "manager role")
    await interpret.deny(closed, "alice", Permission.SEND_MESSAGES)

    server = await interpret.invoke("config", user="alice", scope="server",
                                    transcript_channel=closed)
    channel = await interpret.invoke("config", user="alice", channel=fake.voice_channel,
                                     transcript_channel=closed)

    refused = (f"You cannot send messages in <#{closed.id}>, so you cannot send transcripts "
               "there.")
    assert server.texts == channel.texts == [refused]
    shown = await interpret.invoke("config", scope="server")
    assert "• `transcript_channel`: the channel where `start` is run" in shown.texts[0]
