"""SIGTERM during a run: the real bot process posts a notice, leaves voice, closes its
Pinch rooms, flushes pending transcripts and exits 0 within SHUTDOWN_TIMEOUT.

The bot runs as ``python -m tests.support.served_bot`` (bot.app.serve, as
``python -m bot`` does) against the fake Discord, real LiveKit and the simulator.
It loads the real ``/interpret`` commands and transcript writer: the run is started
with ``/interpret start`` and the pending transcript is one the real writer still
holds when the signal comes (the simulator's translation is late, so the original
waits for it in the writer).
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
from tests.fakes.pinch import DEFAULT_SCRIPT, PinchSimulator, SimulatorFaults
from tests.support.fixtures_pinch import PINCH_TEST_TOKEN
from tests.support.served_bot import BotProcess, bot_processes

SHUTDOWN_TIMEOUT_S = 20.0
REAL_COGS = "cogs.interpret,cogs.transcripts"
HELLO, HOLA = DEFAULT_SCRIPT[0]


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
    """``/interpret start`` in the real bot, then Alice speaks; returns once the bot
    holds her final original and its translation is still on its way (pending)."""
    sim.faults = SimulatorFaults(translation_delay=60.0)  # never before the signal
    for name in ("admin", "alice"):
        await fake.move_member(name, fake.voice_channel)
    record = await fake.invoke("interpret start", user="admin", within=20,
                               options={"target": "es"})
    try:
        # The answer comes once the bot has joined (or given up after its own bound).
        await fake.wait_for(lambda: any(record.texts), within=40, what="/interpret start's answer")
        await fake.wait_bot_voice_ready(within=5)
        await fake.wait_dave_ready(within=10)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; answer: {record.texts}; "
                             f"bot log:\n{bot.log()[-6000:]}") from None
    assert fake.threads_in(fake.text_channel), (record.texts, bot.log()[-3000:])
    await fake.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 1.0))
    await bot.wait_metric("interpret_transcripts_total", 1, within=20, kind="original",
                          final="true")


def bot_channel(fake: FakeDiscord) -> int | None:
    state = fake.guild.voice_states.get(fake.bot_user_id)
    return None if state is None else state.channel_id


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_during_a_run_leaves_voice_flushes_and_exits_0_within_the_bound(
    fake_discord: FakeDiscord, simulator: PinchSimulator, tmp_path: Path,
    processes: list[BotProcess], sig: signal.Signals,
) -> None:
    bot = await running_bot_process(fake_discord, simulator, tmp_path / "bot", processes,
                                    SERVED_BOT_EXTENSIONS=REAL_COGS)
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
    # The notice reached the channel, and the pending transcript its thread, after it:
    # the writer's flush released the original it held for a translation that never came.
    [notice] = [m for m in fake_discord.messages_in(fake_discord.voice_channel)
                if m.content == NOTICE]
    [thread] = fake_discord.threads_in(fake_discord.text_channel)
    posts = [m for m in fake_discord.messages_in(thread) if HELLO in m.content]
    assert len(posts) == 1, [m.content for m in fake_discord.messages_in(thread)]
    assert HOLA not in posts[0].content
    assert posts[0].id > notice.id
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
    record = await fake_discord.answered(await fake_discord.invoke("ops start", within=20),
                                         within=20)
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
