"""/interpret start: what it answers, and every bad case refused before joining."""

from __future__ import annotations

import pytest

from tests.e2e.commands.conftest import Interpret
from tests.e2e.conftest import ALICE_HZ
from tests.fakes.discord.model import Permission
from tests.support.waiting import eventually


def not_in_voice(interpret: Interpret) -> bool:
    return interpret.fake.bot_voice() is None and not interpret.bot.voice_clients


async def test_start_without_options_in_a_configured_channel_interprets_it(
    interpret: Interpret,
) -> None:
    await interpret.join("admin", "alice")
    await interpret.invoke("config", target="es")

    record = await interpret.start()

    reply = await interpret.public_answer(record)
    assert "into Spanish (Spain) (`es-ES`)" in reply
    assert "from English (United States) (`en-US`)" in reply
    assert "Mode: per-speaker · voice: clone" in reply
    assert f"Transcripts: <#{interpret.fake.text_channel.id}>" in reply
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await interpret.simulator.wait_for_segments(1, timeout=15)
    [session] = interpret.sessions()
    assert (session.request.source_language, session.request.target_language,
            session.request.voice_type) == ("en-US", "es-ES", "clone")


async def test_start_posts_the_consent_notice_in_the_voice_channels_chat(
    interpret: Interpret,
) -> None:
    await interpret.join("admin")
    await interpret.start(target="es")

    [notice] = interpret.bot_messages(interpret.fake.voice_channel)
    assert "sent to Pinch" in notice.content
    assert "/interpret me opt_out:True" in notice.content
    assert notice.allowed_mentions == {"parse": []}


async def test_start_with_every_option(interpret: Interpret) -> None:
    await interpret.join("alice")  # the admin is not in voice: `channel` says where

    record = await interpret.start(target="pt-br", source="fr", voice="male", mode="mixed",
                                   channel=interpret.fake.voice_channel)

    reply = await interpret.public_answer(record)
    assert "into Portuguese (Brazil) (`pt-BR`), from French (France) (`fr-FR`)" in reply
    assert "Mode: mixed · voice: male" in reply
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await interpret.simulator.wait_for_segments(1, timeout=15)
    [session] = interpret.sessions()
    assert (session.request.source_language, session.request.target_language,
            session.request.voice_type) == ("fr-FR", "pt-BR", "male")


async def test_an_unknown_language_is_refused_with_close_matches(interpret: Interpret) -> None:
    await interpret.join("admin")
    record = await interpret.invoke("start", target="es-XX")
    assert record.ephemeral
    [reply] = record.texts
    assert reply.startswith("Unsupported language code 'es-XX'. Did you mean: es-ES")
    assert not_in_voice(interpret)


async def test_a_caller_outside_voice_without_a_channel_is_told_to_join(
    interpret: Interpret,
) -> None:
    record = await interpret.invoke("start", target="es")
    assert record.ephemeral
    assert record.texts == ["Join a voice channel first, or name one with `channel:`."]
    assert not_in_voice(interpret)


async def test_a_text_channel_is_refused_as_not_a_voice_channel(interpret: Interpret) -> None:
    text = interpret.fake.text_channel
    record = await interpret.invoke("start", target="es", channel=text)
    assert record.ephemeral
    assert record.texts == [f"<#{text.id}> is not a voice channel."]
    assert not_in_voice(interpret)


async def test_no_target_anywhere_is_refused(interpret: Interpret) -> None:
    await interpret.join("admin")
    record = await interpret.invoke("start")
    assert record.ephemeral
    assert record.texts == ["No target language: give `target`, or set one with "
                            "`/interpret config target:`."]
    assert not_in_voice(interpret)


async def test_a_second_start_names_the_channel_already_interpreted(interpret: Interpret) -> None:
    await interpret.join("admin")
    await interpret.start(target="es")
    other = await interpret.fake.add_channel("Other voice")

    record = await interpret.invoke("start", target="fr", channel=other)

    assert record.ephemeral
    assert record.texts == [f"I am already interpreting <#{interpret.fake.voice_channel.id}>. "
                            "Stop it with `/interpret stop` first."]


async def test_missing_bot_permissions_are_named_before_joining(interpret: Interpret) -> None:
    await interpret.join("admin")
    voice = interpret.fake.voice_channel
    interpret.fake.set_bot_permission(voice, deny=int(Permission.SPEAK | Permission.SEND_MESSAGES))
    await interpret.fake.announce_channel(voice)

    record = await interpret.invoke("start", target="es")

    assert record.ephemeral
    assert record.texts == [f"I am missing these permissions in <#{voice.id}>: Speak, "
                            "Send Messages. Ask a server admin to grant them, then try again."]
    assert not_in_voice(interpret)


async def test_stop_leaves_and_says_so(interpret: Interpret) -> None:
    await interpret.join("admin")
    await interpret.start(target="es")

    record = await interpret.invoke("stop")

    assert await interpret.public_answer(record) == (
        f"Stopped interpreting <#{interpret.fake.voice_channel.id}>.")
    await eventually(lambda: not interpret.bot.voice_clients, 5)
    assert interpret.bot.interpretations.get(interpret.fake.guild.id) is None


async def test_stop_with_nothing_running_says_so(interpret: Interpret) -> None:
    record = await interpret.invoke("stop")
    assert record.texts == ["Nothing is being interpreted in this server."]


@pytest.mark.parametrize(("typed", "first"), [
    ("es", ["es-ES", "es-MX", "es-US"]),
    ("span", ["es-ES", "es-MX", "es-US"]),
    ("pt-br", ["pt-BR"]),
])
async def test_language_options_autocomplete(interpret: Interpret, typed: str,
                                             first: list[str]) -> None:
    choices = await interpret.fake.autocomplete("interpret start", "target", target=typed)
    assert [c["value"] for c in choices][:len(first)] == first
    assert all(" — " in c["name"] for c in choices)


async def test_pair_mode_starts_with_the_two_languages(interpret: Interpret) -> None:
    await interpret.join("admin", "alice")
    record = await interpret.start(target="es", source="en", mode="pair")

    assert "Mode: pair (en-US ↔ es-ES)" in await interpret.public_answer(record)
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await interpret.simulator.wait_for_segments(1, timeout=15)
    request = interpret.sessions()[0].request
    assert (request.source_language, request.target_language) == ("en-US", "es-ES")


async def test_a_pair_of_one_language_is_refused_before_joining(interpret: Interpret) -> None:
    await interpret.join("admin")
    record = await interpret.invoke("start", target="en-GB", source="en-US", mode="pair")
    assert record.ephemeral
    assert record.texts[0].startswith("The two languages of a pair must be different")
    assert not_in_voice(interpret)
