"""SIGTERM during a run: the real bot process posts a notice, leaves voice, closes its
Pinch rooms, flushes pending transcripts and exits 0 within SHUTDOWN_TIMEOUT.

The bot runs as ``python -m tests.support.served_bot`` (bot.app.serve, as
``python -m bot`` does) against the fake Discord, real LiveKit and the simulator.
Its pending transcript posts come from the test extension's outbox until the
transcript writer lands (tests/support/ops_extension.py).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.shutdown import NOTICE
from tests.e2e.conftest import ALICE_HZ, write_wav
from tests.fakes.discord import FakeDiscord
from tests.fakes.pinch import DEFAULT_SCRIPT, PinchSimulator
from tests.support.fixtures_pinch import PINCH_TEST_TOKEN
from tests.support.served_bot import BotProcess, bot_processes

SHUTDOWN_TIMEOUT_S = 20.0


@pytest.fixture
def processes() -> Iterator[list[BotProcess]]:
    with bot_processes() as started:
        yield started


async def running_bot_process(fake: FakeDiscord, sim: PinchSimulator, workdir: Path,
                              processes: list[BotProcess], **env: str) -> BotProcess:
    bot = BotProcess(fake, workdir, PINCH_API_TOKEN=PINCH_TEST_TOKEN,
                     PINCH_BASE_URL=sim.base_url, SHUTDOWN_TIMEOUT=str(SHUTDOWN_TIMEOUT_S),
                     **env)
    processes.append(bot)
    bot.start()
    await bot.wait_ready()
    return bot


async def start_run_and_speak(fake: FakeDiscord, sim: PinchSimulator, bot: BotProcess,
                              tmp_path: Path) -> None:
    await fake.move_member("alice", fake.voice_channel)
    record = await fake.invoke("ops start", user="alice", within=20)
    assert record.texts == ["shard 0: started"], bot.log()[-3000:]
    await fake.wait_bot_voice_ready(within=10)
    await fake.wait_dave_ready(within=10)
    await fake.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 1.0))
    await sim.wait_for_segments(1, timeout=20)
    # The translation reached the bot: the test extension holds it as a pending post.
    await bot.wait_metric("interpret_transcripts_total", 1, kind="translated", final="true")


def bot_channel(fake: FakeDiscord) -> int | None:
    state = fake.guild.voice_states.get(fake.bot_user_id)
    return None if state is None else state.channel_id


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_during_a_run_leaves_voice_flushes_and_exits_0_within_the_bound(
    fake_discord: FakeDiscord, simulator: PinchSimulator, tmp_path: Path,
    processes: list[BotProcess], sig: signal.Signals,
) -> None:
    bot = await running_bot_process(fake_discord, simulator, tmp_path / "bot", processes)
    await start_run_and_speak(fake_discord, simulator, bot, tmp_path)
    assert bot_channel(fake_discord) == fake_discord.voice_channel.id
    rss = bot.rss_mib()

    sent = time.monotonic()
    bot.send(sig)
    returncode = await bot.wait_exit(within=SHUTDOWN_TIMEOUT_S + 5)
    elapsed = time.monotonic() - sent

    assert returncode == 0, bot.log()[-4000:]
    assert elapsed < SHUTDOWN_TIMEOUT_S
    # It left voice, and the Pinch room (the simulator saw the client go).
    assert bot_channel(fake_discord) is None
    for session in simulator.sessions:
        assert await simulator.wait_for_session_end(session, timeout=5) == "client_left"
    # The notice reached the channel, and the pending transcript its thread, in that order.
    [notice] = fake_discord.messages_in(fake_discord.voice_channel)
    assert notice.content == NOTICE
    [thread] = fake_discord.threads_in(fake_discord.text_channel)
    posted = [m.content for m in fake_discord.messages_in(thread)]
    assert posted == [DEFAULT_SCRIPT[0][1]]
    assert fake_discord.messages_in(thread)[0].id > notice.id
    print(f"shutdown after {sig.name}: {elapsed:.2f} s (resident memory during the run: "
          f"{rss:.0f} MiB)")


async def test_a_stuck_flush_cannot_hold_the_process_past_the_bound(
    fake_discord: FakeDiscord, simulator: PinchSimulator, tmp_path: Path,
    processes: list[BotProcess],
) -> None:
    bot = BotProcess(fake_discord, tmp_path / "bot", PINCH_API_TOKEN=PINCH_TEST_TOKEN,
                     PINCH_BASE_URL=simulator.base_url, SHUTDOWN_TIMEOUT="4",
                     OPS_FLUSH_HANGS="1")
    processes.append(bot)
    bot.start()
    await bot.wait_ready()
    record = await fake_discord.invoke("ops start", within=20)
    assert record.texts == ["shard 0: started"]

    sent = time.monotonic()
    bot.send(signal.SIGTERM)
    returncode = await bot.wait_exit(within=10)
    elapsed = time.monotonic() - sent

    assert returncode == 1  # the operator learns the shutdown was cut short
    assert elapsed < 4 + 1.0
    assert bot_channel(fake_discord) is None  # voice was left before the flush step
    assert "flushing did not finish" in bot.log()
    print(f"stuck flush: exited {elapsed:.2f} s after SIGTERM (bound 4 s)")
