"""A running interpretation survives what a long-running bot meets: Discord moving the
voice connection (new key, new DAVE leaf), the interpreter leaving mid-run and a burst
of refusals while a new session is asked for (those two over both transports)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.app import InterpretBot
from bot.interpretation.link import LinkState
from tests.e2e.conftest import ALICE_HZ, BOB_HZ, Engine, start_run, write_wav
from tests.fakes.discord import FakeDiscord
from tests.fakes.pinch import PinchSimulator, SimulatorFaults
from tests.support.transports import TRANSPORTS
from tests.support.waiting import eventually

RESUME_WITHIN_S = 5.0


async def test_voice_reconnect_keeps_receiving(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, simulator: PinchSimulator,
    engine: Engine, tmp_path: Path,
) -> None:
    await start_run(fake_discord, discord_bot, engine)
    await fake_discord.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 0.8))
    await simulator.wait_for_segments(1, timeout=15)
    old_key = fake_discord.bot_voice().secret_key  # type: ignore[union-attr]

    await fake_discord.migrate_bot_voice()
    await eventually(lambda: (conn := fake_discord.bot_voice()) is not None
                     and conn.secret_key not in (None, old_key), within=10)
    await fake_discord.wait_bot_voice_ready()
    await fake_discord.wait_dave_ready()
    await fake_discord.speak("alice", write_wav(tmp_path / "b.wav", BOB_HZ, 0.8))
    segments = await simulator.wait_for_segments(2, timeout=15)

    assert [round(s.heard_frequency / 50) * 50 for s in segments] == [ALICE_HZ, BOB_HZ]
    assert len(simulator.sessions) == 1  # the same link carried on


@pytest.mark.parametrize("e2e_transport", TRANSPORTS)
async def test_interpreter_dropping_mid_run_is_reported_and_the_run_resumes(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, simulator: PinchSimulator,
    engine: Engine, tmp_path: Path, e2e_transport: str,
) -> None:
    simulator.faults = SimulatorFaults(drop_agent_in_segment=0)
    await start_run(fake_discord, discord_bot, engine)
    speaking = await fake_discord.start_speaking(
        "alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 1.0))
    # Agents take their faults when their session opens: only the first one drops.
    await eventually(lambda: len(simulator.sessions) == 1)
    simulator.faults = SimulatorFaults()
    await eventually(lambda: simulator.sessions[0].agent_dropped)
    await speaking

    def link_state_since(state: LinkState, since: float) -> bool:
        return any(s.link is not None and s.link.state is state and s.at >= since
                   for s in engine.statuses)

    await eventually(lambda: link_state_since(LinkState.RECONNECTING, 0), within=5)
    dropped = next(s.at for s in engine.statuses
                   if s.link is not None and s.link.state is LinkState.RECONNECTING)
    await eventually(lambda: link_state_since(LinkState.ACTIVE, dropped), RESUME_WITHIN_S)
    print(f"run resumed {time.monotonic() - dropped:.2f} s after the interpreter left")
    await asyncio.sleep(0.5)
    await fake_discord.speak("alice", write_wav(tmp_path / "b.wav", BOB_HZ, 1.0))
    await eventually(lambda: any(round(seg.heard_frequency / 50) * 50 == BOB_HZ
                                 for s in simulator.sessions[1:] for seg in s.segments), 15)
    reasons = [s.reason for s in engine.statuses if s.link is not None]
    assert {"livekit": "interpreter left",
            "websocket": "session ended by the server (4503)"}[e2e_transport] in reasons


@pytest.mark.parametrize("e2e_transport", TRANSPORTS)
async def test_a_429_burst_while_reconnecting_is_reported_and_the_run_resumes(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, simulator: PinchSimulator,
    engine: Engine, tmp_path: Path, e2e_transport: str,
) -> None:
    await start_run(fake_discord, discord_bot, engine)
    await fake_discord.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 0.8))
    await simulator.wait_for_segments(1, timeout=15)

    simulator.faults = SimulatorFaults(rate_limit_every=1, retry_after=0.2)
    await simulator.end_session(simulator.sessions[0])  # a new session is needed
    await eventually(lambda: sum(c.status == 429 for c in simulator.calls) >= 4, 10)
    simulator.faults = SimulatorFaults()
    healed = time.monotonic()
    await eventually(lambda: any(s.link is not None and s.link.state is LinkState.ACTIVE
                                 and s.at >= healed for s in engine.statuses), RESUME_WITHIN_S)

    await fake_discord.speak("alice", write_wav(tmp_path / "b.wav", BOB_HZ, 0.8))
    await eventually(lambda: any(round(seg.heard_frequency / 50) * 50 == BOB_HZ
                                 for s in simulator.sessions[1:] for seg in s.segments), 15)
    reported = [s.reason for s in engine.statuses
                if s.link is not None and s.link.state is LinkState.RECONNECTING]
    assert any(reason.startswith("pinch:") for reason in reported)
