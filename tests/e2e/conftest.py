"""The end-to-end harness: the engine wired to the fake Discord and the Pinch simulator.

``engine`` reaches the simulator over the transport named by the ``e2e_transport``
fixture: ``livekit`` here; a test module overrides the fixture (parametrised over
``TRANSPORTS``) to run its tests over both of Pinch's transports.
"""

from __future__ import annotations

import threading
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import discord
import numpy as np
import pytest

from bot.app import InterpretBot
from bot.interpretation.events import AttributedTranscript, MemberPreference, RunStatus
from bot.interpretation.manager import SessionManager
from bot.interpretation.router import RouterConfig, RoutingMode
from bot.interpretation.run import RunConfig
from bot.voice.client import ReceivingVoiceClient
from tests.fakes.discord import FakeDiscord
from tests.fakes.pinch import PinchSimulator
from tests.support.fixtures_pinch import MakeSimulator
from tests.support.signals import tone
from tests.support.transports import transport_for

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
    languages: dict[int, str] = field(default_factory=dict)
    """Members' own source languages (what ``/interpret me language`` would store)."""


@pytest.fixture
async def simulator(make_pinch_simulator: MakeSimulator) -> PinchSimulator:
    return await make_pinch_simulator()


@pytest.fixture
def e2e_transport() -> str:
    """How the engine reaches Pinch (``livekit`` or ``websocket``)."""
    return "livekit"


@pytest.fixture
async def engine(fake_discord: FakeDiscord, discord_bot: InterpretBot,
                 simulator: PinchSimulator, e2e_transport: str) -> AsyncIterator[Engine]:
    admin_id = fake_discord.admin.id

    async def connect(channel: discord.VoiceChannel) -> ReceivingVoiceClient:
        return await channel.connect(cls=ReceivingVoiceClient, timeout=10)

    async with transport_for(e2e_transport, simulator) as transport:
        holder: list[Engine] = []
        manager = SessionManager(
            transport, connect,
            on_transcript=lambda t: holder[0].transcripts.append(t),
            on_status=lambda s: holder[0].statuses.append(s),
            preferences=lambda m: MemberPreference(opted_out=m == admin_id,
                                                   source_language=holder[0].languages.get(m)),
        )
        holder.append(Engine(manager))
        try:
            yield holder[0]
        finally:
            await manager.aclose()


async def start_run(fake: FakeDiscord, bot: InterpretBot, engine: Engine,
                    mode: RoutingMode = RoutingMode.PER_SPEAKER, *,
                    play_audio: bool = True) -> None:
    for name in ("alice", "bob", "musicbot", "admin"):
        await fake.move_member(name, fake.voice_channel)
    channel = bot.get_channel(fake.voice_channel.id)
    assert isinstance(channel, discord.VoiceChannel)
    assert bot.user is not None
    await engine.manager.start(
        channel, RunConfig(target_language="es-ES", router=RouterConfig(mode=mode),
                           play_audio=play_audio),
        own_user_id=bot.user.id)
    await fake.wait_bot_voice_ready()
    await fake.wait_dave_ready()
