"""The engine under failure, end to end: a run never dies silently, starts never block
each other, a stop during a start is honoured, unfixable Pinch errors are told once and
cost one request, the link cap is told once, a starved link keeps its delay bounded and
says so, and a discord.py that lacks what receive relies on refuses voice runs up front.

Real parts: the fake Discord (voice with DAVE), the real LiveKit server, the Pinch
simulator. Faults: the simulator's answers, a preference lookup that breaks (what a
failing store view does), the receiver stopping by itself, a slow voice join, sends to
Pinch that take 3× real time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.gateway import DiscordVoiceWebSocket

from bot.app import check_voice_internals
from bot.interpretation.events import AttributedTranscript, MemberPreference, RunState, RunStatus
from bot.interpretation.link import LinkConfig
from bot.interpretation.manager import SessionManager, StartCancelled, VoiceUnavailable
from bot.interpretation.router import RouterConfig
from bot.interpretation.run import BEHIND_NOTICE, RunConfig
from bot.interpretation.snapshot import snapshot
from bot.interpretation.transport import Transport
from bot.observability.engine import EngineCollector
from bot.pinch import ClientClosedError, PinchClient
from bot.secrets import Secret
from bot.voice.client import ReceivingVoiceClient
from cogs.interpret import formatting
from tests.e2e.conftest import ALICE_HZ, BOB_HZ, write_wav
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.sharding import add_guild_on_shard
from tests.fakes.pinch import PinchSimulator, SimulatorFaults
from tests.support.fixtures_discord import running_bot
from tests.support.fixtures_pinch import FAST_RETRY, PINCH_TEST_TOKEN, MakeSimulator
from tests.support.slow_transport import SlowSends
from tests.support.transports import transport_for
from tests.support.waiting import eventually

Connector = Callable[[discord.VoiceChannel], Awaitable[ReceivingVoiceClient]]


async def real_connect(channel: discord.VoiceChannel) -> ReceivingVoiceClient:
    return await channel.connect(cls=ReceivingVoiceClient, timeout=10)


class Recorder:
    def __init__(self) -> None:
        self.statuses: list[RunStatus] = []
        self.transcripts: list[AttributedTranscript] = []

    def stopped(self) -> list[RunStatus]:
        return [s for s in self.statuses if s.state is RunState.STOPPED]

    def notices(self) -> list[str]:
        return [s.notice for s in self.statuses if s.notice is not None]


def manager_for(client: PinchClient | Transport[Any], recorder: Recorder, *,
                connect: Connector = real_connect,
                preferences: Callable[[int], MemberPreference] = lambda m: MemberPreference(),
                voice_unavailable: str | None = None) -> SessionManager:
    return SessionManager(client, connect, on_transcript=recorder.transcripts.append,
                          on_status=recorder.statuses.append, preferences=preferences,
                          voice_unavailable=voice_unavailable)


def voice_channel(bot: discord.Client, channel_id: int) -> discord.VoiceChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.VoiceChannel)
    return channel


@pytest.fixture
async def pinch(simulator: PinchSimulator) -> AsyncIterator[PinchClient]:
    async with PinchClient(simulator.base_url, Secret(PINCH_TEST_TOKEN),
                           retry=FAST_RETRY) as client:
        yield client


def bot_in_voice(fake: FakeDiscord, guild_id: int | None = None) -> bool:
    guild = fake.world.guilds[guild_id] if guild_id is not None else fake.guild
    state = guild.voice_states.get(fake.bot_user_id)
    return state is not None and state.channel_id is not None


# -- a run never dies silently ---------------------------------------------------------

async def test_a_failing_receive_pump_ends_the_run_with_its_reason_and_leaves_voice(
    fake_discord: FakeDiscord, discord_bot: discord.Client, pinch: PinchClient,
    tmp_path: Path,
) -> None:
    recorder = Recorder()
    broken = {"store": False}

    def preferences(member_id: int) -> MemberPreference:
        if broken["store"]:
            raise RuntimeError("preference view is gone")
        return MemberPreference()

    manager = manager_for(pinch, recorder, preferences=preferences)
    await fake_discord.move_member("alice", fake_discord.voice_channel)
    assert discord_bot.user is not None
    try:
        await manager.start(voice_channel(discord_bot, fake_discord.voice_channel.id),
                            RunConfig(target_language="es-ES"), own_user_id=discord_bot.user.id)
        await fake_discord.wait_dave_ready()
        broken["store"] = True
        await fake_discord.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 0.5))
        await eventually(lambda: recorder.stopped(), 10)
        await eventually(lambda: not bot_in_voice(fake_discord), 10)
    finally:
        await manager.aclose()
    assert manager.get(fake_discord.guild.id) is None
    (stopped,) = recorder.stopped()
    assert stopped.reason == "voice receive failed (RuntimeError)"


async def test_a_receiver_that_stops_by_itself_ends_the_run(
    fake_discord: FakeDiscord, discord_bot: discord.Client, pinch: PinchClient,
) -> None:
    recorder = Recorder()
    manager = manager_for(pinch, recorder)
    assert discord_bot.user is not None
    try:
        await manager.start(voice_channel(discord_bot, fake_discord.voice_channel.id),
                            RunConfig(target_language="es-ES"), own_user_id=discord_bot.user.id)
        await fake_discord.wait_bot_voice_ready()
        guild = discord_bot.get_guild(fake_discord.guild.id)
        assert guild is not None
        voice = guild.voice_client
        assert isinstance(voice, ReceivingVoiceClient)
        await voice.receiver.aclose()  # no voice-state event says why
        await eventually(lambda: recorder.stopped(), 10)
    finally:
        await manager.aclose()
    assert recorder.stopped()[0].reason == "the voice connection ended"
    assert manager.get(fake_discord.guild.id) is None


# -- starts and stops ------------------------------------------------------------------

async def test_a_stop_during_a_start_is_honoured_and_the_bot_leaves_voice(
    fake_discord: FakeDiscord, discord_bot: discord.Client, pinch: PinchClient,
) -> None:
    recorder = Recorder()
    joining = asyncio.Event()
    release = asyncio.Event()

    async def slow_connect(channel: discord.VoiceChannel) -> ReceivingVoiceClient:
        joining.set()
        await release.wait()
        return await real_connect(channel)

    manager = manager_for(pinch, recorder, connect=slow_connect)
    assert discord_bot.user is not None
    starting = asyncio.create_task(manager.start(
        voice_channel(discord_bot, fake_discord.voice_channel.id),
        RunConfig(target_language="es-ES"), own_user_id=discord_bot.user.id))
    try:
        await joining.wait()
        assert await manager.stop(fake_discord.guild.id, "stopped by an admin") is True
        release.set()
        with pytest.raises(StartCancelled, match="stopped by an admin"):
            await starting
        await eventually(lambda: not bot_in_voice(fake_discord), 10)
    finally:
        release.set()
        await manager.aclose()
    assert manager.get(fake_discord.guild.id) is None
    assert recorder.stopped()[-1].reason == "stopped by an admin"


async def test_a_slow_join_in_one_guild_does_not_hold_up_a_start_in_another(
    make_pinch_simulator: MakeSimulator,
) -> None:
    sim = await make_pinch_simulator()
    from tests.fakes.discord.world import World

    world = World.default()
    second = add_guild_on_shard(world, "Second", (0, 1))
    recorder = Recorder()
    release = asyncio.Event()
    async with FakeDiscord(world) as fake, running_bot(fake) as bot, \
            PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN), retry=FAST_RETRY) as client:
        async def connect(channel: discord.VoiceChannel) -> ReceivingVoiceClient:
            if channel.guild.id == fake.guild.id:
                await release.wait()  # this guild's voice server is slow today
            return await real_connect(channel)

        manager = manager_for(client, recorder, connect=connect)
        assert bot.user is not None
        second_voice = next(c for c in second.channels.values() if c.name == "Voice")
        slow = asyncio.create_task(manager.start(
            voice_channel(bot, fake.voice_channel.id), RunConfig(target_language="es-ES"),
            own_user_id=bot.user.id))
        try:
            await asyncio.sleep(0.2)
            async with asyncio.timeout(15):
                await manager.start(voice_channel(bot, second_voice.id),
                                    RunConfig(target_language="es-ES"), own_user_id=bot.user.id)
            assert not slow.done()  # still joining: the second guild did not wait for it
            assert manager.get(second.id) is not None
            release.set()
            await slow
            assert manager.get(fake.guild.id) is not None
        finally:
            release.set()
            await manager.aclose()


async def test_every_stop_is_harmless_twice_and_before_a_start(
    fake_discord: FakeDiscord, discord_bot: discord.Client, pinch: PinchClient,
) -> None:
    recorder = Recorder()
    manager = manager_for(pinch, recorder)
    assert await manager.stop(fake_discord.guild.id, "nothing to stop") is False
    assert discord_bot.user is not None
    run = await manager.start(voice_channel(discord_bot, fake_discord.voice_channel.id),
                              RunConfig(target_language="es-ES"), own_user_id=discord_bot.user.id)
    try:
        await run.stop("first")
        await run.stop("second")
    finally:
        await manager.aclose()
    assert [s.reason for s in recorder.stopped()] == ["first"]


# -- failures retrying cannot fix ------------------------------------------------------

@pytest.mark.parametrize(("status", "words"), [
    (401, "refused the bot's token"),
    (400, "does not support this language pair"),
])
async def test_an_unfixable_pinch_error_is_told_once_and_costs_one_request_per_member(
    fake_discord: FakeDiscord, discord_bot: discord.Client, make_pinch_simulator: MakeSimulator,
    tmp_path: Path, status: int, words: str,
) -> None:
    # 400 is invalid_language when the language is one Pinch does not have.
    sim = await make_pinch_simulator(languages=("en-US",)) if status == 400 else \
        await make_pinch_simulator(faults=SimulatorFaults(scripted_statuses=(401,) * 50))
    recorder = Recorder()
    async with PinchClient(sim.base_url, Secret(PINCH_TEST_TOKEN), retry=FAST_RETRY) as client:
        manager = manager_for(client, recorder)
        await fake_discord.move_member("alice", fake_discord.voice_channel)
        assert discord_bot.user is not None
        try:
            run = await manager.start(voice_channel(discord_bot, fake_discord.voice_channel.id),
                                      RunConfig(target_language="es-ES"),
                                      own_user_id=discord_bot.user.id)
            await fake_discord.wait_dave_ready()
            for n in range(3):  # the member keeps talking
                await fake_discord.speak("alice", write_wav(tmp_path / f"{n}.wav", ALICE_HZ, 0.6))
            await eventually(lambda: recorder.notices(), 10)
            await asyncio.sleep(1.0)
            playback = run.playback_stats()
            assert playback is not None
            inputs = len(playback.inputs)
        finally:
            await manager.aclose()
    assert len(sim.calls) == 1
    (notice,) = recorder.notices()
    assert words in notice
    assert inputs == 0  # the failed link's playback input went with it


async def test_the_link_cap_is_told_once_per_run(
    fake_discord: FakeDiscord, discord_bot: discord.Client, pinch: PinchClient,
    tmp_path: Path,
) -> None:
    recorder = Recorder()
    manager = manager_for(pinch, recorder)
    for name in ("alice", "bob"):
        await fake_discord.move_member(name, fake_discord.voice_channel)
    assert discord_bot.user is not None
    try:
        await manager.start(voice_channel(discord_bot, fake_discord.voice_channel.id),
                            RunConfig(target_language="es-ES", router=RouterConfig(max_links=1)),
                            own_user_id=discord_bot.user.id)
        await fake_discord.wait_dave_ready()
        await fake_discord.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 0.4))
        await eventually(lambda: manager.get(fake_discord.guild.id) is not None and
                         manager.get(fake_discord.guild.id).link_rooms(), 10)  # type: ignore[union-attr]
        for n in range(2):
            await fake_discord.speak("bob", write_wav(tmp_path / f"b{n}.wav", BOB_HZ, 0.4))
        await eventually(lambda: recorder.notices(), 10)
    finally:
        await manager.aclose()
    bob = fake_discord.member("bob").id
    (notice,) = recorder.notices()
    assert f"<@{bob}> is not being interpreted" in notice


# -- delay is bounded --------------------------------------------------------------------

async def test_a_starved_link_keeps_its_delay_bounded_shows_it_and_tells_the_channel_once(
    fake_discord: FakeDiscord, discord_bot: discord.Client, simulator: PinchSimulator,
    tmp_path: Path,
) -> None:
    recorder = Recorder()
    await fake_discord.move_member("alice", fake_discord.voice_channel)
    assert discord_bot.user is not None
    guild_id = fake_discord.guild.id
    alice = fake_discord.member("alice").id
    async with transport_for("websocket", simulator) as transport:
        manager = manager_for(SlowSends(transport, 3.0), recorder)  # sends take 3× real time
        metrics = EngineCollector(lambda: manager.runs,
                                  lambda gid: getattr(discord_bot.get_guild(gid), "voice_client",
                                                      None),
                                  lambda: 0.0)
        try:
            await manager.start(voice_channel(discord_bot, fake_discord.voice_channel.id),
                                RunConfig(target_language="es-ES"),
                                own_user_id=discord_bot.user.id)
            await fake_discord.wait_dave_ready()
            await fake_discord.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 8.0))
            run = manager.get(guild_id)
            assert run is not None
            status = formatting.status(snapshot(run), None)
            (link,) = run.interpreter_links().values()
            dropped = {s.labels["cause"]: s.value for family in metrics.collect()
                       if family.name == "interpret_behind_dropped_seconds"
                       for s in family.samples}
        finally:
            await manager.aclose()
    config = LinkConfig()
    assert link.stats.uplink_backlog_peak_ms <= config.live_backlog_ms + config.capture_ms
    assert f"<@{alice}>: active (behind: dropping audio)" in status
    assert dropped["uplink_speech_dropped"] > 1.0  # seconds
    assert recorder.notices() == [BEHIND_NOTICE]
    (behind,) = [s for s in recorder.statuses if s.notice is not None]
    assert behind.member_id == alice


# -- discord.py internals ----------------------------------------------------------------

async def test_a_discord_py_without_what_receive_relies_on_refuses_voice_runs_up_front(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    fake_discord: FakeDiscord, discord_bot: discord.Client, pinch: PinchClient,
) -> None:
    monkeypatch.setattr(DiscordVoiceWebSocket, "SPEAKING", 55)  # as if an upgrade renumbered it
    with caplog.at_level(logging.ERROR):
        reason = check_voice_internals()
    assert reason is not None
    assert "DiscordVoiceWebSocket.SPEAKING == 5" in reason
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [reason]
    recorder = Recorder()
    manager = manager_for(pinch, recorder, voice_unavailable=reason)
    with pytest.raises(VoiceUnavailable):
        await manager.start(voice_channel(discord_bot, fake_discord.voice_channel.id),
                            RunConfig(target_language="es-ES"))
    assert not bot_in_voice(fake_discord)


async def test_the_bot_checks_discord_py_internals_when_it_starts(
    monkeypatch: pytest.MonkeyPatch, fake_discord: FakeDiscord,
) -> None:
    monkeypatch.setattr(DiscordVoiceWebSocket, "CLIENT_CONNECT", 99)
    async with running_bot(fake_discord) as bot:
        assert bot.interpretations is not None
        with pytest.raises(VoiceUnavailable, match="CLIENT_CONNECT"):
            await bot.interpretations.start(
                voice_channel(bot, fake_discord.voice_channel.id),
                RunConfig(target_language="es-ES"))


# -- nothing lost on stop ----------------------------------------------------------------

async def test_what_was_said_just_before_a_stop_is_still_interpreted(
    fake_discord: FakeDiscord, discord_bot: discord.Client, pinch: PinchClient,
    tmp_path: Path,
) -> None:
    recorder = Recorder()
    manager = manager_for(pinch, recorder)
    await fake_discord.move_member("alice", fake_discord.voice_channel)
    assert discord_bot.user is not None
    try:
        await manager.start(voice_channel(discord_bot, fake_discord.voice_channel.id),
                            RunConfig(target_language="es-ES"), own_user_id=discord_bot.user.id)
        await fake_discord.wait_dave_ready()
        await fake_discord.speak("alice", write_wav(tmp_path / "a.wav", ALICE_HZ, 1.0))
        await manager.stop(fake_discord.guild.id, "stopped by an admin")  # at once
    finally:
        await manager.aclose()
    kinds = [(t.event.kind, t.event.is_final) for t in recorder.transcripts]
    assert ("original", True) in kinds
    assert ("translated", True) in kinds
    alice = fake_discord.member("alice").id
    assert {t.member_id for t in recorder.transcripts} == {alice}


async def test_a_voice_join_that_times_out_leaves_no_voice_client_behind(
    fake_discord: FakeDiscord, discord_bot: discord.Client, pinch: PinchClient,
) -> None:
    from tests.fakes.discord.model import Permission

    async def quick_connect(channel: discord.VoiceChannel) -> ReceivingVoiceClient:
        return await channel.connect(cls=ReceivingVoiceClient, timeout=1.0)

    recorder = Recorder()
    manager = manager_for(pinch, recorder, connect=quick_connect)
    fake_discord.set_bot_permission(fake_discord.voice_channel, deny=int(Permission.CONNECT))
    channel = voice_channel(discord_bot, fake_discord.voice_channel.id)
    assert discord_bot.user is not None
    try:
        with pytest.raises(TimeoutError):  # Discord ignores the join; discord.py gives up
            await manager.start(channel, RunConfig(target_language="es-ES"),
                                own_user_id=discord_bot.user.id)
        assert channel.guild.voice_client is None
        assert manager.get(fake_discord.guild.id) is None
        fake_discord.set_bot_permission(fake_discord.voice_channel)  # allowed again
        await manager.start(channel, RunConfig(target_language="es-ES"),
                            own_user_id=discord_bot.user.id)
        await fake_discord.wait_bot_voice_ready()
    finally:
        await manager.aclose()


async def test_the_bot_closes_pinch_and_discord_even_when_stopping_the_runs_fails(
    monkeypatch: pytest.MonkeyPatch, fake_discord: FakeDiscord,
) -> None:
    async with running_bot(fake_discord) as bot:
        assert bot.interpretations is not None
        assert bot.pinch is not None

        async def failing_aclose() -> None:
            raise RuntimeError("a run would not stop")

        monkeypatch.setattr(bot.interpretations, "aclose", failing_aclose)
        pinch = bot.pinch
        await bot.close()
        assert bot.is_closed()
        with pytest.raises(ClientClosedError):
            await pinch.create_session("en-US", "es-ES")
