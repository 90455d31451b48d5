"""The fixtures clean up after themselves: no threads, tasks or sockets left behind."""

from __future__ import annotations

import asyncio
import io
import os
import threading
from collections.abc import Callable

import discord
import numpy as np

from tests.fakes.discord import FakeDiscord
from tests.support.fixtures_discord import running_bot
from tests.support.signals import tone


def socket_fds() -> set[str]:
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:"):
            out.add(target)
    return out


def thread_ids() -> set[int | None]:
    return {t.ident for t in threading.enumerate()}


async def settle(predicate: Callable[[], bool], within: float = 5.0) -> None:
    """Daemon threads stop on their own schedule: give them a bounded moment."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        if predicate() or loop.time() > deadline:
            return
        await asyncio.sleep(0.02)


async def exercise_everything(fake: FakeDiscord) -> None:
    async with running_bot(fake) as bot:
        await fake.move_member("alice", fake.voice_channel)
        channel = bot.get_channel(fake.voice_channel.id)
        assert isinstance(channel, discord.VoiceChannel)
        vc: discord.VoiceClient = await channel.connect(timeout=10)
        await fake.wait_bot_voice_ready()
        await fake.wait_dave_ready()
        done = asyncio.Event()
        pcm = np.repeat(tone(300.0, 0.2)[:, None], 2, axis=1)
        loop = asyncio.get_running_loop()
        vc.play(discord.PCMAudio(io.BytesIO(pcm.tobytes())),
                after=lambda _e: loop.call_soon_threadsafe(done.set))
        await asyncio.wait_for(done.wait(), 5)
        await fake.speak("alice", tone(500.0, 0.2))
        await fake.reconnect_gateway()
        await vc.disconnect(force=True)


async def test_fake_and_bot_leave_no_threads_tasks_or_sockets_behind() -> None:
    threads_before, sockets_before = thread_ids(), socket_fds()
    async with FakeDiscord() as fake:
        await exercise_everything(fake)
    await settle(lambda: thread_ids() <= threads_before and socket_fds() <= sockets_before)
    assert thread_ids() - threads_before == set()
    assert socket_fds() - sockets_before == set()
    others = asyncio.all_tasks() - {asyncio.current_task()}
    assert {t.get_name() for t in others if not t.done()} == set()


async def test_closing_the_fake_twice_is_harmless() -> None:
    fake = FakeDiscord()
    await fake.start()
    await fake.aclose()
    await fake.aclose()
