"""End to end: fake Discord (real discord.py, DAVE, UDP) → our engine → real LiveKit →
Pinch simulator → back into the voice channel.

Members speak tones; the simulator records the dominant frequency of what each
session heard and answers segment n with a tone at ``translation_frequency(n)``,
which the fake Discord decodes from the bot's outgoing audio.
"""

from __future__ import annotations

import asyncio
import threading
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import discord
import numpy as np
import pytest

from bot.app import InterpretBot
from bot.interpretation.manager import SessionManager
from bot.interpretation.router import RouterConfig, RoutingMode
from bot.interpretation.run import AttributedTranscript, MemberPreference, RunConfig, RunStatus
from bot.pinch import PinchClient
from bot.secrets import Secret
from bot.voice.client import ReceivingVoiceClient
from tests.fakes.discord import FakeDiscord
from tests.fakes.pinch import PinchSimulator, translation_frequency
from tests.support.fixtures_pinch import FAST_RETRY, PINCH_TEST_TOKEN, MakeSimulator
from tests.support.signals import tone, tone_prominence_db
from tests.support.waiting import eventually

ALICE_HZ, BOB_HZ, MUSICBOT_HZ, ADMIN_HZ = 300.0, 500.0, 750.0, 650.0


def write_wav(path: Path, freq: float, seconds: float) -> Path:
    mono = tone(freq, seconds, amplitude=0.3)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(48_000)
        wav.writeframes(np.repeat(mono, 2).tobytes())
    return path


def threads_left(before: set[threading.Thread]) -> set[threading.Thread]:
    """Threads started since ``before`` that are still running and are ours to stop.

    Not ours: the loop's default executor (``asyncio_N``, reclaimed when the loop
    closes), foreign threads that called into Python (LiveKit's FFI dispatcher
    shows up as a ``_DummyThread``), and discord.py's voice socket reader once it
    was told to stop: it notices within its 30 s ``select`` timeout.
    """
    def ours(t: threading.Thread) -> bool:
        if t.name.startswith("asyncio_") or isinstance(t, threading._DummyThread):
            return False
        if t.name.startswith("voice-socket-reader"):
            return not t._end.is_set()  # type: ignore[attr-defined]
        return True

    return {t for t in set(threading.enumerate()) - before if t.is_alive() and ours(t)}


@dataclass
class Engine:
    manager: SessionManager
    transcripts: list[AttributedTranscript] = field(default_factory=list)
    statuses: list[RunStatus] = field(default_factory=list)


@pytest.fixture
async def simulator(make_pinch_simulator: MakeSimulator) -> PinchSimulator:
    return await make_pinch_simulator()


@pytest.fixture
async def engine(fake_discord: FakeDiscord, discord_bot: InterpretBot,
                 simulator: PinchSimulator) -> AsyncIterator[Engine]:
    admin_id = fake_discord.admin.id

    async def connect(channel: discord.VoiceChannel) -> ReceivingVoiceClient:
        return await channel.connect(cls=ReceivingVoiceClient, timeout=10)

    async with PinchClient(simulator.base_url, Secret(PINCH_TEST_TOKEN),
                           retry=FAST_RETRY) as client:
        holder: list[Engine] = []
        manager = SessionManager(
            client, connect,
            on_transcript=lambda t: holder[0].transcripts.append(t),
            on_status=lambda s: holder[0].statuses.append(s),
            preferences=lambda m: MemberPreference(opted_out=m == admin_id),
        )
        holder.append(Engine(manager))
        try:
            yield holder[0]
        finally:
            await manager.aclose()


async def start_run(fake: FakeDiscord, bot: InterpretBot, engine: Engine,
                    mode: RoutingMode = RoutingMode.PER_SPEAKER) -> None:
    for name in ("alice", "bob", "musicbot", "admin"):
        await fake.move_member(name, fake.voice_channel)
    channel = bot.get_channel(fake.voice_channel.id)
    assert isinstance(channel, discord.VoiceChannel)
    assert bot.user is not None
    await engine.manager.start(
        channel, RunConfig(target_language="es-ES", router=RouterConfig(mode=mode)),
        own_user_id=bot.user.id)
    await fake.wait_bot_voice_ready()
    await fake.wait_dave_ready()


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
    rooms = run.link_rooms()
    segments = await simulator.wait_for_segments(2, timeout=15, played=True)
    await eventually(lambda: sum(t.event.kind == "translated" for t in engine.transcripts) >= 2)
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
