"""Start-up cost of the fake Discord fixtures (prints figures, asserts nothing).

    .venv/bin/python -m tests.benchmarks.bench_fake_discord

Measures, over several runs: the fake alone (CA + certificate, TLS server, UDP
socket); fake + InterpretBot logged in, synced and ready (what the ``discord_bot``
fixture costs; the target is under 3 s); the bot joining voice with a member until
the DAVE group settled; and teardown.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import discord

from tests.fakes.discord import FakeDiscord
from tests.support.fixtures_discord import running_bot

RUNS = 5


async def one_run() -> dict[str, float]:
    t0 = time.perf_counter()
    fake = FakeDiscord()
    await fake.start()
    t_fake = time.perf_counter()
    async with running_bot(fake) as bot:
        t_ready = time.perf_counter()
        await fake.move_member("alice", fake.voice_channel)
        channel = bot.get_channel(fake.voice_channel.id)
        assert isinstance(channel, discord.VoiceChannel)
        vc: discord.VoiceClient = await channel.connect(timeout=10)
        await fake.wait_dave_ready()
        t_voice = time.perf_counter()
        await vc.disconnect(force=True)
        t_close0 = time.perf_counter()
    await fake.aclose()
    t_end = time.perf_counter()
    return {
        "fake start": t_fake - t0,
        "fixture start (fake + bot ready)": t_ready - t0,
        "voice join + DAVE settled": t_voice - t_ready,
        "teardown": t_end - t_close0,
    }


async def main() -> None:
    runs = [await one_run() for _ in range(RUNS)]
    print(f"fake Discord start-up, {RUNS} runs (seconds: median / max)")
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(f"  {key:<36} {statistics.median(values):6.3f} / {max(values):6.3f}")


if __name__ == "__main__":
    asyncio.run(main())
