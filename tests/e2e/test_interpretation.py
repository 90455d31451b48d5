"""End to end: fake Discord (real discord.py, DAVE, UDP) → our engine → Pinch (the
simulator, through a real LiveKit room or over its WebSocket API) → back into the voice
channel. Every test runs over both transports.

Members speak tones; the simulator records the dominant frequency of what each
session heard and answers segment n with a tone at ``translation_frequency(n)``,
which the fake Discord decodes from the bot's outgoing audio.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import pytest

from bot.app import InterpretBot
from bot.interpretation.router import RoutingMode
from tests.e2e.conftest import (
    ADMIN_HZ,
    ALICE_HZ,
    BOB_HZ,
    MUSICBOT_HZ,
    Engine,
    start_run,
    threads_left,
    write_wav,
)
from tests.fakes.discord import FakeDiscord
from tests.fakes.pinch import PinchSimulator, translation_frequency
from tests.support.signals import tone_prominence_db
from tests.support.transports import TRANSPORTS
from tests.support.waiting import eventually


@pytest.fixture(params=TRANSPORTS)
def e2e_transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_each_member_is_interpreted_in_their_own_session_and_heard_back(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, simulator: PinchSimulator,
    engine: Engine, tmp_path: Path,
) -> None:
    await start_run(fake_discord, discord_bot, engine)
    alice, bob = fake_discord.member("alice"), fake_discord.member("bob")
    speeches = [
        await fake_discord.start_speaking("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 1.2)),
        await fake_discord.start_speaking("bob", write_wav(tmp_path / "b.wav", BOB_HZ, 1.2)),
        await fake_discord.start_speaking("musicbot",
                                          write_wav(tmp_path / "m.wav", MUSICBOT_HZ, 1.2)),
        await fake_discord.start_speaking("admin", write_wav(tmp_path / "o.wav", ADMIN_HZ, 1.2)),
    ]
    await asyncio.gather(*speeches)
    run = engine.manager.get(fake_discord.guild.id)
    assert run is not None
    segments = await simulator.wait_for_segments(2, timeout=15, played=True)
    rooms = run.link_rooms()  # both links are in their sessions now
    await eventually(lambda: sum(t.event.kind == "translated" for t in engine.transcripts) >= 2)
    rooms = run.link_rooms()  # read once the links are interpreted (a busy machine is slow)
    await asyncio.sleep(1.0)  # the translated tones are still in flight to the fake

    # Per speaker: one session each, hearing only that member's voice.
    heard_by_room = {s.room_name: [round(seg.heard_frequency / 50) * 50 for seg in s.segments]
                     for s in simulator.sessions}
    assert heard_by_room == {rooms[alice.id]: [ALICE_HZ], rooms[bob.id]: [BOB_HZ]}
    # Never forwarded: the other bot, and the member who opted out.
    assert set(rooms) == {alice.id, bob.id}
    # Transcripts carry the right member.
    finals = {(t.member_id, t.event.kind) for t in engine.transcripts if t.event.is_final}
    assert finals == {(alice.id, "original"), (alice.id, "translated"),
                      (bob.id, "original"), (bob.id, "translated")}
    # The translation of each segment is heard in the bot's outgoing audio.
    # They overlap (both spoke at once), so look for each tone in the spectrum.
    out = fake_discord.captured_audio().mono()
    expected = [tone_prominence_db(out, 48_000, translation_frequency(seg.number))
                for seg in segments]
    # ...and nothing else in the translation band (onset transients only: 40 dB below).
    numbers = {seg.number for seg in segments}
    others = [tone_prominence_db(out, 48_000, translation_frequency(n))
              for n in range(10) if n not in numbers]
    assert min(expected) > 60
    assert max(others) < min(expected) - 30


async def test_mixed_mode_uses_one_session_and_attributes_from_the_speaking_timeline(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, simulator: PinchSimulator,
    engine: Engine, tmp_path: Path,
) -> None:
    await start_run(fake_discord, discord_bot, engine, RoutingMode.MIXED)
    alice, bob = fake_discord.member("alice"), fake_discord.member("bob")
    await fake_discord.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 1.0))
    await asyncio.sleep(1.0)
    await fake_discord.speak("bob", write_wav(tmp_path / "b.wav", BOB_HZ, 1.0))
    await fake_discord.speak("musicbot", write_wav(tmp_path / "m.wav", MUSICBOT_HZ, 1.0))
    segments = await simulator.wait_for_segments(2, timeout=15)
    await eventually(lambda: sum(t.event.kind == "translated" for t in engine.transcripts) >= 2)

    assert len(simulator.sessions) == 1
    assert simulator.sessions[0].request.voice_type != "clone"
    assert [round(s.heard_frequency / 50) * 50 for s in segments] == [ALICE_HZ, BOB_HZ]
    originals = [t.member_id for t in engine.transcripts
                 if t.event.is_final and t.event.kind == "original"]
    assert originals == [alice.id, bob.id]


async def test_stop_leaves_no_rooms_tasks_or_threads(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, simulator: PinchSimulator,
    engine: Engine, tmp_path: Path,
) -> None:
    threads_before = set(threading.enumerate())
    await start_run(fake_discord, discord_bot, engine)
    await fake_discord.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 0.8))
    await simulator.wait_for_segments(1, timeout=15)

    assert await engine.manager.stop(fake_discord.guild.id, "test over")

    for session in simulator.sessions:
        assert await simulator.wait_for_session_end(session, timeout=10) == "client_left"
    engine_tasks = [t for t in asyncio.all_tasks()
                    if t.get_name().split(":")[0] in ("link", "router", "run")]
    assert engine_tasks == []
    await eventually(lambda: not threads_left(threads_before), within=5)
    assert discord_bot.voice_clients == []
    assert engine.statuses[-1].reason == "test over"


async def test_bot_speaks_only_while_a_translation_plays(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, simulator: PinchSimulator,
    engine: Engine, tmp_path: Path,
) -> None:
    await start_run(fake_discord, discord_bot, engine)
    conn = fake_discord.bot_voice()
    assert conn is not None
    await fake_discord.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 0.8))
    await simulator.wait_for_segments(1, timeout=15, played=True)
    # Idle again: the mixer paused the player, which tells Discord it stopped speaking.
    await eventually(lambda: conn.speaking and conn.speaking[-1]["speaking"] == 0, 5)
    states = [s["speaking"] for s in conn.speaking]
    assert 1 in states
    await asyncio.sleep(0.3)  # discord.py's five trailing silence frames
    before = fake_discord.captured_audio()
    sent = (len(before.frames), before.silence_frames)
    await asyncio.sleep(1.0)
    after = fake_discord.captured_audio()
    assert (len(after.frames), after.silence_frames) == sent  # no audio sent while idle


async def test_text_only_posts_transcripts_and_sends_no_audio_to_the_channel(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, simulator: PinchSimulator,
    engine: Engine, tmp_path: Path, e2e_transport: str,
) -> None:
    await start_run(fake_discord, discord_bot, engine, play_audio=False)
    alice = fake_discord.member("alice")
    await fake_discord.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 1.0))
    await eventually(lambda: any(t.event.kind == "translated" for t in engine.transcripts), 15)
    await asyncio.sleep(1.5)  # the time a translated tone would take to be heard

    finals = [(t.member_id, t.event.kind) for t in engine.transcripts if t.event.is_final]
    assert finals == [(alice.id, "original"), (alice.id, "translated")]
    # What the bot sent, decoded by the fake: nothing audible. (discord.py's player may
    # send one frame of silence between the run's play() and pause() at start; Opus
    # decodes it to a few LSB of noise. The translated tones peak at 16,000.)
    frames = fake_discord.captured_audio().frames
    assert len(frames) <= 1
    assert all(int(np.abs(f.pcm).max()) < 64 for f in frames)
    # WebSocket: Pinch was asked for no audio; LiveKit: its track was not played.
    assert simulator.sessions[0].request.audio_output is (e2e_transport == "livekit")


async def test_a_members_new_language_is_applied_in_place_on_websocket_and_by_reopening_on_livekit(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, simulator: PinchSimulator,
    engine: Engine, tmp_path: Path, e2e_transport: str,
) -> None:
    await start_run(fake_discord, discord_bot, engine)
    alice = fake_discord.member("alice")
    await fake_discord.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 0.8))
    await simulator.wait_for_segments(1, timeout=15)
    run = engine.manager.get(fake_discord.guild.id)
    assert run is not None
    assert run.transport_name == e2e_transport

    engine.languages[alice.id] = "fr-FR"  # what /interpret me language fr-FR stores
    outcome = await run.apply_member_settings(alice.id)
    await fake_discord.speak("alice", write_wav(tmp_path / "b.wav", BOB_HZ, 0.8))
    await simulator.wait_for_segments(2, timeout=15)

    if e2e_transport == "websocket":
        assert outcome == "updated"
        assert len(simulator.sessions) == 1  # no reconnect
        assert [u["sourceLanguage"] for u in simulator.sessions[0].metadata_updates] == ["fr-FR"]
    else:
        assert outcome == "reopened"
        assert [s.request.source_language for s in simulator.sessions] == ["en-US", "fr-FR"]
    assert simulator.sessions[-1].current_source_language == "fr-FR"
