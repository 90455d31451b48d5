"""/interpret config: scopes, precedence down to the Pinch session, provenance, reset,
and settings that outlive the bot."""

from __future__ import annotations

import logging

import pytest

from tests.e2e.commands.conftest import Interpret, RunClock, interpret_bot
from tests.e2e.conftest import ALICE_HZ


async def session_settings(interpret: Interpret, **start_options: object) -> tuple[str, str, str]:
    """Start (as the admin, in Voice), let Alice speak once, and read what the simulator
    was asked for: (source, target, voice)."""
    await interpret.join("admin", "alice")
    await interpret.start(**start_options)
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await interpret.simulator.wait_for_segments(1, timeout=15)
    [session] = interpret.sessions()
    request = session.request
    return request.source_language, request.target_language, request.voice_type


async def test_a_server_default_reaches_the_session(interpret: Interpret) -> None:
    await interpret.invoke("config", scope="server", target="de", source="fr", voice="male")
    assert await session_settings(interpret) == ("fr-FR", "de-DE", "male")


async def test_a_channel_override_beats_the_server_default(interpret: Interpret) -> None:
    await interpret.invoke("config", scope="server", target="de", source="fr", voice="male")
    await interpret.invoke("config", channel=interpret.fake.voice_channel, target="it",
                           voice="female")
    assert await session_settings(interpret) == ("fr-FR", "it-IT", "female")


async def test_a_command_option_beats_the_channel(interpret: Interpret) -> None:
    await interpret.invoke("config", scope="server", target="de", source="fr", voice="male")
    await interpret.invoke("config", channel=interpret.fake.voice_channel, target="it",
                           voice="female")
    assert await session_settings(interpret, target="ja", source="en-gb") == (
        "en-GB", "ja-JP", "female")


async def test_config_without_options_shows_each_value_and_its_origin(
    interpret: Interpret,
) -> None:
    await interpret.invoke("config", scope="server", target="de", max_speakers=3)
    await interpret.invoke("config", channel=interpret.fake.voice_channel, target="it")

    record = await interpret.invoke("config", channel=interpret.fake.voice_channel)

    assert record.ephemeral
    [text] = record.texts
    assert "• `target`: Italian (Italy) (`it-IT`) — channel" in text
    assert "• `max_speakers`: 3 — server" in text
    assert "• `voice`: clone — built-in default" in text
    assert "• `idle_leave_seconds`: 60 — built-in default" in text
    assert "retention_days" not in text  # a server setting


async def test_reset_forgets_the_channel_settings_only(interpret: Interpret) -> None:
    await interpret.invoke("config", scope="server", target="de")
    await interpret.invoke("config", channel=interpret.fake.voice_channel, target="it")

    record = await interpret.invoke("config", channel=interpret.fake.voice_channel, reset=True)

    [text] = record.texts
    assert text.startswith("Saved.")
    assert "• `target`: German (Germany) (`de-DE`) — server" in text


async def test_clearing_the_manager_role_leaves_none_and_keeps_the_other_settings(
    interpret: Interpret,
) -> None:
    voice = interpret.fake.voice_channel
    role = await interpret.fake.add_role("Interpreters")
    interpret.fake.give_role("alice", role)
    await interpret.invoke("config", channel=voice, target="de", manager_role=role)
    allowed = await interpret.invoke("config", user="alice", channel=voice, voice="male")

    cleared = await interpret.invoke("config", channel=voice, clear="manager_role")
    refused = await interpret.invoke("config", user="alice", channel=voice, voice="female")

    assert allowed.texts[0].startswith("Saved.")
    [text] = cleared.texts
    assert text.startswith(f"Cleared `manager_role` for <#{voice.id}>.\n")
    assert "• `manager_role`: none (Manage Channels only) — built-in default" in text
    assert "• `target`: German (Germany) (`de-DE`) — channel" in text
    assert "• `voice`: male — channel" in text
    assert refused.texts == ["You need the Manage Channels permission in this channel to do "
                             "that."]


async def test_clearing_the_server_context_leaves_none_and_keeps_the_other_settings(
    interpret: Interpret,
) -> None:
    await interpret.invoke("config", scope="server", target="de", context="Ferris and Corro")

    cleared = await interpret.invoke("config", scope="server", clear="context")
    shown = await interpret.invoke("config", channel=interpret.fake.voice_channel)

    [text] = cleared.texts
    assert text.startswith("Cleared `context` for the whole server.\n")
    assert "Ferris" not in text + shown.texts[0]
    assert "• `context`: not set — built-in default" in shown.texts[0]
    assert "• `target`: German (Germany) (`de-DE`) — server" in shown.texts[0]


async def test_a_setting_given_a_value_and_cleared_at_once_is_refused(
    interpret: Interpret,
) -> None:
    await interpret.invoke("config", scope="server", context="Ferris")
    record = await interpret.invoke("config", scope="server", context="Corro", clear="context")
    shown = await interpret.invoke("config", scope="server")
    assert record.texts == ["Give `context` a value or clear it, not both."]
    assert "“Ferris” (6 characters" in shown.texts[0]


async def test_server_settings_show_retention(interpret: Interpret) -> None:
    record = await interpret.invoke("config", scope="server", retention_days=30)
    [text] = record.texts
    assert "• `retention_days`: 30 — server" in text


async def test_retention_is_refused_at_channel_scope(interpret: Interpret) -> None:
    record = await interpret.invoke("config", channel=interpret.fake.voice_channel,
                                    retention_days=3)
    assert record.texts == ["`retention_days` is a server setting: add `scope:server`."]


async def test_clearing_retention_is_refused_at_channel_scope(interpret: Interpret) -> None:
    record = await interpret.invoke("config", channel=interpret.fake.voice_channel,
                                    clear="retention_days")
    assert record.texts == ["`retention_days` is a server setting: add `scope:server`."]


async def test_an_unknown_language_in_config_is_refused(interpret: Interpret) -> None:
    record = await interpret.invoke("config", scope="server", target="klingon")
    assert record.ephemeral
    [text] = record.texts
    assert text.startswith("Unsupported language code 'klingon'.")


async def test_configuration_survives_a_restart_on_the_same_database(
    interpret: Interpret,
) -> None:
    voice = interpret.fake.voice_channel
    await interpret.invoke("config", scope="server", target="de", idle_leave_seconds=120)
    await interpret.invoke("config", channel=voice, voice="male")
    await interpret.invoke("me", user="alice", language="fr")
    await interpret.bot.close()

    async with interpret_bot(interpret.fake, interpret.settings, RunClock()) as second:
        interpret.bot = second
        shown = await interpret.invoke("config", channel=voice)
        assert await session_settings(interpret) == ("fr-FR", "de-DE", "male")
        me = await interpret.invoke("me", user="alice")

    [text] = shown.texts
    assert "• `target`: German (Germany) (`de-DE`) — server" in text
    assert "• `idle_leave_seconds`: 120 — server" in text
    assert "• `voice`: male — channel" in text
    assert "spoken language: French (France) (`fr-FR`)" in me.texts[0]


@pytest.mark.parametrize("pinch_transport_setting", ["websocket"])
async def test_a_channels_context_goes_with_its_websocket_sessions_and_is_never_logged(
    interpret: Interpret, pinch_transport_setting: str, caplog: pytest.LogCaptureFixture,
) -> None:
    context = "Speakers: Ferris and Corro; terms: crates.io, borrowck"
    with caplog.at_level(logging.DEBUG):
        saved = await interpret.invoke("config", channel=interpret.fake.voice_channel,
                                       target="es", context=context)
        await interpret.join("admin", "alice")
        await interpret.start()
        await interpret.speak("alice", ALICE_HZ, 0.8)
        await interpret.simulator.wait_for_segments(1, timeout=15)

    assert "• `context`: “Speakers: Ferris and Corro; terms: crates.io, borrowck” (54 " \
           "characters; sent with WebSocket sessions) — channel" in saved.texts[0]
    [session] = interpret.sessions()
    assert session.request.context == context
    # Never, by anyone, even at DEBUG: not the HTTP client that sends it, nor discord.py's
    # raw gateway events or aiosqlite's statements, which carry the command's options.
    logged = [(r.name, r.levelname) for r in caplog.records if "Ferris" in r.getMessage()]
    assert logged == []
