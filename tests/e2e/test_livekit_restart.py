"""The LiveKit server restarting under a running interpretation: the run reports the
outage, is back within 5 s of the server, and the next speech is interpreted and heard.

This module's ``simulator`` runs on a LiveKit server of its own, so killing it
disturbs no other test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import InterpretBot
from bot.interpretation.link import LinkState
from tests.e2e.conftest import ALICE_HZ, BOB_HZ, Engine, start_run, write_wav
from tests.fakes.discord import FakeDiscord
from tests.fakes.pinch import PinchSimulator, translation_frequency
from tests.support.fixtures_pinch import PINCH_TEST_TOKEN
from tests.support.livekit_server import LiveKitServer, running_livekit_server
from tests.support.signals import tone_prominence_db
from tests.support.waiting import eventually

RESUME_WITHIN_S = 5.0


@pytest.fixture
def own_livekit() -> Iterator[LiveKitServer]:
    with running_livekit_server() as server:
        yield server


@pytest.fixture
async def simulator(own_livekit: LiveKitServer) -> AsyncIterator[PinchSimulator]:
    sim = PinchSimulator(livekit_url=own_livekit.url, livekit_api_key=own_livekit.api_key,
                         livekit_api_secret=own_livekit.api_secret, api_token=PINCH_TEST_TOKEN)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.aclose()


async def test_livekit_restart_mid_run_is_reported_and_the_run_resumes(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, simulator: PinchSimulator,
    engine: Engine, own_livekit: LiveKitServer, tmp_path: Path,
) -> None:
    await start_run(fake_discord, discord_bot, engine)
    await fake_discord.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 0.8))
    await simulator.wait_for_segments(1, timeout=15)

    own_livekit.kill()
    await asyncio.to_thread(own_livekit.start)
    back = time.monotonic()

    def link_state_since(state: LinkState, since: float) -> bool:
        return any(s.link is not None and s.link.state is state and s.at >= since
                   for s in engine.statuses)

    await eventually(lambda: link_state_since(LinkState.RECONNECTING, 0), RESUME_WITHIN_S)
    await eventually(lambda: link_state_since(LinkState.ACTIVE, back), RESUME_WITHIN_S)
    print(f"run active again {time.monotonic() - back:.2f} s after LiveKit came back")

    await fake_discord.speak("alice", write_wav(tmp_path / "b.wav", BOB_HZ, 0.8))
    await eventually(lambda: any(round(seg.heard_frequency / 50) * 50 == BOB_HZ
                                 for s in simulator.sessions[1:] for seg in s.segments), 15)
    latest = max((seg for s in simulator.sessions for seg in s.segments),
                 key=lambda seg: seg.number)
    await eventually(lambda: latest.audio_ended_at is not None, 10)
    await asyncio.sleep(0.5)
    out = fake_discord.captured_audio().mono()
    assert tone_prominence_db(out, 48_000, translation_frequency(latest.number)) > 60
