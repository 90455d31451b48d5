"""/interpret me: a member's own language, voice and opt-out, applied to a running
interpretation at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.commands.conftest import Interpret
from tests.e2e.conftest import ALICE_HZ, BOB_HZ
from tests.support.transports import TRANSPORTS
from tests.support.waiting import eventually


async def test_an_opted_out_members_audio_never_reaches_pinch(interpret: Interpret) -> None:
    await interpret.invoke("me", user="alice", opt_out=True)
    await interpret.join("admin", "alice", "bob")
    await interpret.start(target="es")

    await interpret.speak("alice", ALICE_HZ, 0.8)
    await interpret.speak("bob", BOB_HZ, 0.8)
    await interpret.simulator.wait_for_segments(1, timeout=15)
    await asyncio.sleep(1.0)

    [session] = interpret.sessions()  # Bob's only
    assert [round(s.heard_frequency / 50) * 50 for s in session.segments] == [BOB_HZ]
    assert set(interpret.bot.interpretations.get(interpret.fake.guild.id)
               .link_rooms()) == {interpret.fake.member("bob").id}  # type: ignore[union-attr]


async def test_reset_with_a_new_language_keeps_it_and_forgets_the_voice(
    interpret: Interpret,
) -> None:
    await interpret.invoke("me", user="alice", language="de", voice="male", opt_out=True)
    record = await interpret.invoke("me", user="alice", reset=True, language="fr")
    [text] = record.texts
    assert "• spoken language: French (France) (`fr-FR`)" in text
    assert "• voice: not set (the channel's)" in text
    assert "opted out" in text


@pytest.mark.parametrize("pinch_transport_setting", TRANSPORTS)
async def test_opting_out_mid_run_stops_the_members_audio_within_a_second(
    interpret: Interpret, pinch_transport_setting: str,
) -> None:
    await interpret.join("admin", "alice")
    await interpret.start(target="es")
    speech = await interpret.fake.start_speaking(
        "alice", interpret.bursts("alice", ALICE_HZ, count=6))  # 7.8 s of talk
    await interpret.simulator.wait_for_segments(1, timeout=15)

    record = await interpret.invoke("me", user="alice", opt_out=True)
    opted_out_at = time.time()
    await speech  # she keeps talking for several more bursts

    assert record.texts[0].startswith("Saved, and applied to the running interpretation.")
    segments = [seg for s in interpret.sessions() for seg in s.segments]
    assert segments  # heard before the opt-out...
    late = [(round(seg.started_at - opted_out_at, 2), round(seg.ended_at - opted_out_at, 2))
            for seg in segments if seg.ended_at > opted_out_at + 1.0]
    assert late == []  # ...and nothing later than a second after it
    assert len(interpret.sessions()) == 1  # no new session while she keeps talking
    session = interpret.sessions()[0]
    assert await interpret.simulator.wait_for_session_end(session, timeout=5) == "client_left"


@pytest.mark.parametrize("pinch_transport_setting", TRANSPORTS)
async def test_changing_language_mid_run_reaches_the_live_session(
    interpret: Interpret, pinch_transport_setting: str,
) -> None:
    """LiveKit: the session re-opens with the new source. WebSocket: the live session
    takes it in place (``update_metadata``), no reconnect."""
    await interpret.join("admin", "alice")
    await interpret.start(target="es")
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await interpret.simulator.wait_for_segments(1, timeout=15)

    record = await interpret.invoke("me", user="alice", language="fr")
    if pinch_transport_setting == "websocket":
        await eventually(lambda: interpret.sessions()[0].metadata_updates)
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await interpret.simulator.wait_for_segments(2, timeout=15)

    assert "spoken language: French (France) (`fr-FR`)" in record.texts[0]
    if pinch_transport_setting == "websocket":
        [session] = interpret.sessions()
        assert [u["sourceLanguage"] for u in session.metadata_updates] == ["fr-FR"]
        assert session.current_source_language == "fr-FR"
        assert len(session.segments) == 2
        return
    first, second = interpret.sessions()
    assert (first.request.source_language, second.request.source_language) == (
        "en-US", "fr-FR")
    assert await interpret.simulator.wait_for_session_end(first, timeout=5) == "client_left"
    assert [len(first.segments), len(second.segments)] == [1, 1]


async def test_a_preferred_voice_is_used_for_the_members_session(interpret: Interpret) -> None:
    await interpret.invoke("me", user="alice", voice="female")
    await interpret.join("admin", "alice")
    await interpret.start(target="es")
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await interpret.simulator.wait_for_segments(1, timeout=15)
    assert interpret.sessions()[0].request.voice_type == "female"


async def test_me_without_options_shows_the_preferences(interpret: Interpret) -> None:
    await interpret.invoke("me", user="alice", language="de", voice="male")
    record = await interpret.invoke("me", user="alice")
    assert record.ephemeral
    assert record.texts == ["**Your interpretation preferences in this server**\n"
                            "• spoken language: German (Germany) (`de-DE`)\n• voice: male\n"
                            "• captions: off (the run's own thread only)\n"
                            "• interpreted when you speak in a channel with interpretation on."]


async def test_opting_back_in_reaches_pinch_again(interpret: Interpret) -> None:
    await interpret.invoke("me", user="alice", opt_out=True)
    await interpret.join("admin", "alice")
    await interpret.start(target="es")
    await interpret.invoke("me", user="alice", opt_out=False)
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await interpret.simulator.wait_for_segments(1, timeout=15)
    await eventually(lambda: len(interpret.sessions()) == 1)
