"""Captions in every listener's language: members choose theirs with ``/interpret me
captions:``, the run serves each language read by someone present (a text-only session
per speaker, a thread per language), closes it a grace period after its last reader
left and opens it again when one comes back.

The simulator translates into French and German with scripts of their own, so a
thread's text tells which language (and which utterance) a post holds. Carol joins
the default guild for these tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.service.captions import DEFAULT_GRACE_S
from bot.transcripts.text import escape
from tests.e2e.commands.conftest import Interpret
from tests.e2e.conftest import ALICE_HZ
from tests.fakes.discord import FakeDiscord, Message
from tests.fakes.discord.model import Channel, User
from tests.fakes.pinch import DEFAULT_SCRIPT, PinchSimulator, SimulatedSession
from tests.support.fixtures_pinch import MakeSimulator
from tests.support.transports import TRANSPORTS
from tests.support.waiting import eventually

SPANISH = [DEFAULT_SCRIPT[0], DEFAULT_SCRIPT[1]]
FRENCH = [(DEFAULT_SCRIPT[0][0], "Bonjour, comment allez vous ?"),
          (DEFAULT_SCRIPT[1][0], "La réunion commence à midi.")]
GERMAN = [(DEFAULT_SCRIPT[0][0], "Hallo, wie geht es dir?"),
          (DEFAULT_SCRIPT[1][0], "Das Treffen beginnt mittags.")]


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        world = fake.world
        world.add_member(fake.guild, User(world.new_id(), "carol", global_name="Carol"))
        yield fake


@pytest.fixture
async def simulator(make_pinch_simulator: MakeSimulator) -> PinchSimulator:
    return await make_pinch_simulator(scripts={"fr-FR": FRENCH, "de-DE": GERMAN})


def thread_named(interpret: Interpret, languages: str) -> Channel | None:
    """The transcript thread of the current run whose name shows ``languages``."""
    active = interpret.bot.services.runs.active(interpret.fake.guild.id)
    assert active is not None
    name = f"Voice · {languages} · {active.started_at.date().isoformat()}"
    return next((t for t in interpret.fake.threads_in(interpret.fake.text_channel)
                 if t.name == name), None)


def posts(interpret: Interpret, thread: Channel | None) -> list[Message]:
    if thread is None:
        return []
    return [m for m in interpret.fake.messages_in(thread) if not m.deleted]


def said(interpret: Interpret, thread: Channel | None) -> list[tuple[str | None, str]]:
    return [(m.username, m.content) for m in posts(interpret, thread)]


def post(speaker: str, line: tuple[str, str]) -> tuple[str, str]:
    return (speaker, f"{line[0]}\n> {line[1]}")


def sessions_into(interpret: Interpret, language: str) -> list[SimulatedSession]:
    return [s for s in interpret.sessions() if s.request.target_language == language]


async def readers_present(interpret: Interpret) -> None:
    """Bob reads French, Carol German; both are in the voice channel with Alice."""
    await interpret.invoke("me", user="bob", captions="fr")
    await interpret.invoke("me", user="carol", captions="de-DE")
    await interpret.join("admin", "alice", "bob", "carol")


@pytest.mark.parametrize("pinch_transport_setting", TRANSPORTS)
async def test_each_listeners_language_gets_its_own_thread_with_every_utterance(
    interpret: Interpret, pinch_transport_setting: str,
) -> None:
    await readers_present(interpret)
    await interpret.start(target="es")

    await interpret.fake.speak("alice", interpret.bursts("alice", ALICE_HZ, count=2))

    threads = {"es": thread_named(interpret, "en-US → es-ES")}
    await eventually(lambda: len(said(interpret, threads["es"])) == 2
                     and all("\n> " in c for _, c in said(interpret, threads["es"])), 30)
    threads["fr"] = thread_named(interpret, "Français")
    threads["de"] = thread_named(interpret, "Deutsch")
    for key in ("fr", "de"):
        await eventually(lambda key=key: len(said(interpret, threads[key])) == 2
                         and all("\n> " in c for _, c in said(interpret, threads[key])), 15)
    assert said(interpret, threads["es"]) == [post("Alice", line) for line in SPANISH]
    assert said(interpret, threads["fr"]) == [post("Alice", line) for line in FRENCH]
    assert said(interpret, threads["de"]) == [post("Alice", line) for line in GERMAN]
    assert all(m.allowed_mentions == {"parse": []}
               for t in threads.values() for m in posts(interpret, t))


@pytest.mark.parametrize("pinch_transport_setting", TRANSPORTS)
async def test_caption_sessions_are_text_only_and_play_nothing(
    interpret: Interpret, pinch_transport_setting: str,
) -> None:
    await readers_present(interpret)
    await interpret.start(target="es")
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await interpret.simulator.wait_for_segments(3, timeout=20)
    [spanish] = sessions_into(interpret, "es-ES")
    await eventually(lambda: spanish.segments and spanish.segments[0].audio_ended_at, 15)

    engine = interpret.bot.interpretations.get(interpret.fake.guild.id)
    assert engine is not None
    alice = interpret.fake.member("alice").id
    captions = engine.caption_links()[alice]
    assert set(captions) == {"fr-FR", "de-DE"}  # 1 + 2 sessions for her
    assert all(link.stats.transcripts > 0 for link in captions.values())
    assert [link.stats.playback_frames for link in captions.values()] == [0, 0]
    stats = engine.playback_stats()
    assert stats is not None
    assert len(stats.inputs) == 1
    caption_sessions = [*sessions_into(interpret, "fr-FR"), *sessions_into(interpret, "de-DE")]
    assert len(caption_sessions) == 2
    if pinch_transport_setting == "websocket":
        assert [s.request.audio_output for s in caption_sessions] == [False, False]
        assert [s.translated_audio_chunks for s in caption_sessions] == [0, 0]
        assert spanish.translated_audio_chunks > 0


@pytest.mark.parametrize("pinch_transport_setting", TRANSPORTS)
async def test_a_language_closes_after_the_grace_once_its_reader_left_and_reopens_on_return(
    interpret: Interpret, pinch_transport_setting: str,
) -> None:
    await interpret.invoke("me", user="bob", captions="fr")
    await interpret.join("admin", "alice", "bob")
    await interpret.start(target="es")
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await eventually(lambda: "\n> " in "".join(c for _, c in said(
        interpret, thread_named(interpret, "Français"))), 30)
    french = thread_named(interpret, "Français")
    [first] = sessions_into(interpret, "fr-FR")

    active = interpret.bot.services.runs.active(interpret.fake.guild.id)
    assert active is not None
    assert active.captions is not None

    await interpret.fake.move_member("bob", None)
    await eventually(lambda: active.captions.in_grace("fr-FR"))  # type: ignore[union-attr]
    interpret.clock.advance(DEFAULT_GRACE_S - 5)  # still within the grace: kept
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await interpret.simulator.wait_for_segments(2, session=first, timeout=15)
    interpret.clock.advance(10)
    assert await interpret.simulator.wait_for_session_end(first, timeout=15) == "client_left"

    await interpret.speak("alice", ALICE_HZ, 0.8)  # nobody reads French now
    spanish = sessions_into(interpret, "es-ES")
    await interpret.simulator.wait_for_segments(3, session=spanish[-1], timeout=15)
    await interpret.fake.move_member("bob", interpret.fake.voice_channel)
    await eventually(lambda: len(sessions_into(interpret, "fr-FR")) == 2, 15)
    await interpret.speak("alice", ALICE_HZ, 0.8)
    second = sessions_into(interpret, "fr-FR")[1]
    await interpret.simulator.wait_for_segments(1, session=second, timeout=15)
    await eventually(lambda: len(said(interpret, french)) == 3
                     and said(interpret, french)[-1][1].count("\n> ") == 1, 15)

    # Her first two utterances, then (the French session new) the first line again:
    # each once, none of what she said while no one read French.
    assert said(interpret, french) == [post("Alice", line)
                                       for line in (FRENCH[0], FRENCH[1], FRENCH[0])]
    assert thread_named(interpret, "Français") == french  # the same thread all along


async def test_a_language_past_the_cap_is_refused_naming_the_available_ones(
    interpret: Interpret,
) -> None:
    await interpret.invoke("config", channel=interpret.fake.voice_channel,
                           max_caption_languages=2)
    await readers_present(interpret)
    await interpret.start(target="es")

    record = await interpret.invoke("me", user="alice", captions="it")

    assert await interpret.answer(record) == (
        "Italiano (it-IT) cannot be added: this channel shows at most 2 caption languages "
        "besides its own. Available now: Español (es-ES), Français (fr-FR), "
        "Deutsch (de-DE).")
    shown = await interpret.invoke("me", user="alice")
    assert "• captions: off" in await interpret.answer(shown)
    engine = interpret.bot.interpretations.get(interpret.fake.guild.id)
    assert engine is not None
    assert engine.caption_languages == ("fr-FR", "de-DE")


@pytest.mark.parametrize(("captions", "sentence"), [
    ("xx", "Unsupported language code 'xx'. Use a code such as en-US, es-ES or fr-FR."),
    ("fr", "Captions in other languages are turned off here (a manager set "
           "`max_caption_languages` to 0)."),
])
async def test_a_bad_caption_request_gets_one_sentence_and_nothing_is_stored(
    interpret: Interpret, captions: str, sentence: str,
) -> None:
    await interpret.invoke("config", scope="server", max_caption_languages=0)
    record = await interpret.invoke("me", user="bob", captions=captions)

    assert await interpret.answer(record) == sentence
    stored = await interpret.bot.services.store.member_preference(
        interpret.fake.guild.id, interpret.fake.member("bob").id)
    assert stored.caption_language is None


async def test_status_lists_the_languages_who_asked_and_the_sessions_per_speaker(
    interpret: Interpret,
) -> None:
    await readers_present(interpret)
    await interpret.start(target="es")
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await interpret.simulator.wait_for_segments(3, timeout=20)

    text = await interpret.answer(await interpret.invoke("status", user="bob"))

    bob, carol, alice = (interpret.fake.member(n).id for n in ("bob", "carol", "alice"))
    assert (f"Caption languages (a thread each): Français (fr-FR) — asked by <@{bob}> · "
            f"Deutsch (de-DE) — asked by <@{carol}>.") in text
    assert f"Sessions per speaker: <@{alice}>: 3 (interpreted, fr-FR, de-DE)." in text


async def test_the_summary_counts_and_the_export_gives_each_language(
    interpret: Interpret,
) -> None:
    await readers_present(interpret)
    await interpret.start(target="es")
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await eventually(lambda: all("\n> " in "".join(c for _, c in said(
        interpret, thread_named(interpret, name))) for name in ("Français", "Deutsch",
                                                                 "en-US → es-ES")), 30)
    await interpret.invoke("stop")

    [summary] = [m.content for m in interpret.bot_messages()
                 if m.content.startswith("Interpretation of")]
    assert summary.endswith("\nSegments per language: es-ES 1, de-DE 1, fr-FR 1.")
    french = Interpret.transcript_of(await interpret.invoke("transcript", language="fr"))
    own = Interpret.transcript_of(await interpret.invoke("transcript"))
    assert FRENCH[0][1] in french
    assert SPANISH[0][1] not in french
    assert SPANISH[0][1] in own
    assert FRENCH[0][1] not in own
    refused = await interpret.invoke("transcript", language="it")
    assert await interpret.answer(refused) == (
        "That run has no transcript in Italian (Italy); it has German (Germany) (de-DE), "
        "Spanish (Spain) (es-ES), French (France) (fr-FR).")


async def test_forget_deletes_the_members_segments_in_every_language(
    interpret: Interpret,
) -> None:
    await readers_present(interpret)
    await interpret.start(target="es")
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await eventually(lambda: all("\n> " in "".join(c for _, c in said(
        interpret, thread_named(interpret, name))) for name in ("Français", "Deutsch",
                                                                 "en-US → es-ES")), 30)
    await interpret.invoke("stop")

    record = await interpret.invoke("me", user="alice", forget=True)

    assert await interpret.answer(record) == (
        "Deleted 3 stored transcript segments of yours in this server.")
    assert await interpret.bot.services.store.count_segments(interpret.fake.guild.id) == 0


async def test_pair_mode_keeps_its_two_directions_and_adds_the_caption_languages(
    interpret: Interpret,
) -> None:
    await interpret.invoke("me", user="bob", captions="fr")
    await interpret.join("admin", "alice", "bob")
    await interpret.start(target="es", source="en", mode="pair")
    await interpret.speak("alice", ALICE_HZ, 0.8)

    await eventually(lambda: "\n> " in "".join(c for _, c in said(
        interpret, thread_named(interpret, "Français"))), 30)
    [(speaker, french)] = said(interpret, thread_named(interpret, "Français"))
    tag = escape("(en-US → fr-FR)")  # each post shows its direction, as in pair mode
    assert (speaker, french) == ("Alice", f"{tag} {FRENCH[0][0]}\n> {FRENCH[0][1]}")
    await eventually(lambda: said(interpret, thread_named(interpret, "en-US ↔ es-ES")), 15)
    assert sorted(s.request.target_language for s in interpret.sessions()) == ["es-ES", "fr-FR"]


async def test_a_channels_configured_languages_are_captioned_with_nobody_asking(
    interpret: Interpret,
) -> None:
    await interpret.invoke("config", channel=interpret.fake.voice_channel,
                           caption_languages="de")
    await interpret.join("admin", "alice")
    await interpret.start(target="es")
    await interpret.speak("alice", ALICE_HZ, 0.8)

    await eventually(lambda: said(interpret, thread_named(interpret, "Deutsch"))
                     == [post("Alice", GERMAN[0])], 30)


@pytest.mark.parametrize("pinch_transport_setting", TRANSPORTS)
async def test_a_caption_language_the_service_refuses_is_told_once_and_spares_the_run(
    interpret: Interpret, pinch_transport_setting: str,
) -> None:
    interpret.simulator.languages = interpret.simulator.languages - {"it-IT"}
    await interpret.invoke("me", user="bob", captions="it")
    await interpret.join("admin", "alice", "bob")
    await interpret.start(target="es")

    await interpret.fake.speak("alice", interpret.bursts("alice", ALICE_HZ, count=2))

    spanish = thread_named(interpret, "en-US → es-ES")
    await eventually(lambda: said(interpret, spanish) == [post("Alice", line)
                                                          for line in SPANISH], 30)
    notices = [m.content for m in interpret.bot_messages() if "Captions in" in m.content]
    assert notices == ["⚠️ Captions in Italiano (it-IT) could not be opened: That language "
                       "is not supported by the translation service."]
    assert thread_named(interpret, "Italiano") is None
