"""Who may do what: Manage Channels or the manager role for start/stop/config, `me` for
everyone, and no guild reaching another's settings."""

from __future__ import annotations

from tests.e2e.commands.conftest import Interpret

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
    assert stop.texts == [f"Stopped interpreting <#{interpret.fake.voice_channel.id}>."]
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
