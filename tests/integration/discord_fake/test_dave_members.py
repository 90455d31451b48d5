"""DAVE across implementations: the bot (davey, through discord.py) in calls whose
members' clients run davey or libdave, as Discord's own clients do.

Every frame is accounted for. A member's frames are counted as they leave its client
(``SpeechReport``: under an epoch the bot's session held, or not) and the bot's
receiver counts what it decoded and what it dropped, by cause; the bot's own frames
are decrypted by every member's client (``CapturedAudio.heard`` / ``.lost``). The only
frames allowed to be lost are those the protocol cannot decrypt: sent under an epoch
the bot was not (yet) in. Each test records its counts as the ``dave_frames`` property.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import discord
import numpy as np
import pytest

from bot.app import InterpretBot
from bot.voice.client import ReceivingVoiceClient
from bot.voice.events import PcmFrame
from bot.voice.rtp import DropReason
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.speech import SpeechReport
from tests.support.fixtures_discord import both_dave_impls
from tests.support.signals import dominant_frequency, tone
from tests.support.waiting import eventually

pytestmark = both_dave_impls

TIMEOUT = 15.0
#: The receiver's drops that mean "this frame's key was never ours": the frame is
#: under an epoch the bot is not in, or was held unattributed until the hold expired
#: because no key the bot has opens it.
PROTOCOL_LOSSES = frozenset({DropReason.DAVE_NO_DECRYPTOR, DropReason.DAVE_NO_CRYPTOR,
                             DropReason.UNKNOWN_SSRC})

Record = Callable[[str, object], None]


async def connect(fake: FakeDiscord, bot: InterpretBot) -> ReceivingVoiceClient:
    channel = bot.get_channel(fake.voice_channel.id)
    assert isinstance(channel, discord.VoiceChannel)
    vc = await channel.connect(cls=ReceivingVoiceClient, timeout=TIMEOUT)
    await fake.wait_bot_voice_ready(within=TIMEOUT)
    return vc


async def members_settled(fake: FakeDiscord) -> None:
    """Until every member's client holds the call's current epoch (bot or not)."""
    call = fake.voice_call()
    await eventually(lambda: call.dave is not None and not call.dave.pending_transitions
                     and call.dave.epoch > 0 and all(m.ready for m in call.members.values()),
                     TIMEOUT)


@asynccontextmanager
async def hearing(vc: ReceivingVoiceClient) -> AsyncIterator[list[PcmFrame]]:
    """Drains the bot's receiver while the block runs: its decoded, voiced frames."""
    frames: list[PcmFrame] = []

    async def drain() -> None:
        async for event in vc.receiver:
            if isinstance(event, PcmFrame) and not event.concealed:
                frames.append(event)

    task = asyncio.create_task(drain())
    try:
        yield frames
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def all_arrived(vc: ReceivingVoiceClient, report: SpeechReport) -> dict[str, int]:
    """Once the bot's receiver settled every frame the member sent: its counts.

    Settled: every frame the bot may decrypt was decoded or dropped, and every packet
    it admitted has an outcome (frames held unattributed are dropped when their hold
    expires). Frames that reached the socket before discord.py listened leave no trace.
    """
    stats = vc.receiver.stats
    # The DTX silence frames that end the burst travel in clear and are decoded too.
    decryptable = report.decryptable + report.silence_frames

    def settled() -> bool:
        outcomes = stats.frames_decoded + sum(stats.drop_counts().values())
        return outcomes >= stats.packets_admitted and outcomes >= decryptable

    try:
        await eventually(settled, TIMEOUT)
    except TimeoutError:
        raise AssertionError(f"{report} {stats.snapshot()}") from None
    drops = {reason.value: n for reason, n in stats.drop_counts().items()}
    return {"decoded": stats.frames_decoded - report.silence_frames, **drops}


def assert_only_protocol_losses(report: SpeechReport, bot: dict[str, int]) -> None:
    causes = {k for k, n in bot.items() if k != "decoded" and n}
    assert causes <= {r.value for r in PROTOCOL_LOSSES}, bot
    assert bot["decoded"] >= report.decryptable
    assert report.frames - bot["decoded"] <= report.undecryptable


def speech_counts(report: SpeechReport) -> dict[str, object]:
    return {"sent": report.frames, "decryptable": report.decryptable,
            "undecryptable": report.undecryptable, "unrouted": report.unrouted,
            "epochs": dict(report.epochs)}


async def play(vc: discord.VoiceClient, pcm: np.ndarray) -> None:
    done = asyncio.get_running_loop().create_future()

    def after(error: Exception | None) -> None:
        done.get_loop().call_soon_threadsafe(lambda: done.done() or done.set_result(error))

    vc.play(discord.PCMAudio(io.BytesIO(pcm.tobytes())), after=after)
    assert await asyncio.wait_for(done, TIMEOUT) is None


def stereo(samples: np.ndarray) -> np.ndarray:
    return np.repeat(samples[:, None], 2, axis=1)


def voiced_frequency(frames: list[PcmFrame]) -> float:
    pcm = np.frombuffer(b"".join(f.pcm for f in frames), dtype=np.int16).reshape(-1, 2)
    return dominant_frequency(pcm[:, 0], 48_000)


async def test_the_bot_is_welcomed_into_the_group_its_members_already_hold(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, record_property: Record
) -> None:
    for name in ("alice", "bob"):
        await fake_discord.move_member(name, fake_discord.voice_channel)
    await members_settled(fake_discord)
    call = fake_discord.voice_call()
    assert call.dave is not None
    founded = call.dave.epoch
    vc = await connect(fake_discord, discord_bot)
    try:
        await fake_discord.wait_dave_ready(within=TIMEOUT)
        bot_session = vc._connection.dave_session
        assert bot_session is not None
        # Joined by the welcome of the next epoch of the same group, not a new group.
        assert call.dave.epoch == founded + 1
        assert call.dave.members[-1] == fake_discord.bot_user_id
        codes = {m.client.privacy_code for m in call.members.values() if m.client}
        assert codes == {bot_session.voice_privacy_code}
        async with hearing(vc) as heard:
            report = await fake_discord.speak("bob", tone(330.0, 1.0))
            bot = await all_arrived(vc, report)
    finally:
        await vc.disconnect(force=True)
    record_property("dave_frames", {"member_to_bot": {**speech_counts(report), **bot}})
    assert report.undecryptable == 0
    assert bot["decoded"] == report.frames
    assert voiced_frequency(heard) == pytest.approx(330.0, abs=5.0)


async def test_the_bot_joining_while_a_member_speaks_loses_only_what_was_sent_before_its_welcome(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, record_property: Record
) -> None:
    for name in ("alice", "bob"):
        await fake_discord.move_member(name, fake_discord.voice_channel)
    await members_settled(fake_discord)
    alice = fake_discord.voice_call().members[fake_discord.member("alice").id]
    speech = await fake_discord.start_speaking("alice", tone(550.0, 3.0))
    await eventually(lambda: alice.frames_sent >= 25, TIMEOUT)  # half a second in
    vc = await connect(fake_discord, discord_bot)
    try:
        async with hearing(vc) as heard:
            await fake_discord.wait_dave_ready(within=TIMEOUT)
            report = await speech
            bot = await all_arrived(vc, report)
    finally:
        await vc.disconnect(force=True)
    record_property("dave_frames", {"member_to_bot": {**speech_counts(report), **bot}})
    assert report.undecryptable > 0  # the bot came in mid-speech
    assert report.decryptable > 0
    assert_only_protocol_losses(report, bot)
    assert voiced_frequency(heard) == pytest.approx(550.0, abs=5.0)


async def test_a_member_speaking_while_others_join_and_leave_loses_no_frame_the_bot_may_decrypt(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, record_property: Record
) -> None:
    await fake_discord.move_member("alice", fake_discord.voice_channel)
    vc = await connect(fake_discord, discord_bot)
    try:
        await fake_discord.wait_dave_ready(within=TIMEOUT)
        decoded = vc.receiver.stats
        async with hearing(vc) as heard:
            speech = await fake_discord.start_speaking("alice", tone(440.0, 3.0))
            # A change every 30 frames the bot heard: bob joins, admin joins, bob leaves.
            for heard_frames, name, channel in ((30, "bob", fake_discord.voice_channel),
                                                (60, "admin", fake_discord.voice_channel),
                                                (90, "bob", None)):
                await eventually(lambda n=heard_frames: decoded.frames_decoded >= n, TIMEOUT)
                await fake_discord.move_member(name, channel)
                await fake_discord.wait_dave_ready(within=TIMEOUT)
            report = await speech
            bot = await all_arrived(vc, report)
    finally:
        await vc.disconnect(force=True)
    record_property("dave_frames", {"member_to_bot": {**speech_counts(report), **bot}})
    # Her speech spanned four epochs: frames of each old epoch kept arriving after the
    # bot had moved to the next.
    assert len(report.epochs) == 4
    assert_only_protocol_losses(report, bot)
    if fake_discord.voice.dave_impl == "libdave":
        # A Discord client switches keys only when the transition executes, after the
        # bot acknowledged it: the bot can decrypt every frame.
        assert report.undecryptable == 0
        assert bot["decoded"] == report.frames
    assert voiced_frequency(heard) == pytest.approx(440.0, abs=5.0)


async def test_after_reconnecting_the_bot_hears_its_members_again(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, record_property: Record
) -> None:
    await fake_discord.move_member("alice", fake_discord.voice_channel)
    vc = await connect(fake_discord, discord_bot)
    try:
        await fake_discord.wait_dave_ready(within=TIMEOUT)
        # discord.py 2.7.1 misses a voice server update that lands while its voice
        # poller is busy (it waits its whole timeout, then leaves): let it finish
        # executing the transition first.
        await eventually(lambda: not vc._connection.dave_pending_transitions, TIMEOUT)
        first = fake_discord.bot_voice()
        await fake_discord.migrate_bot_voice()
        await eventually(lambda: fake_discord.bot_voice() not in (None, first), TIMEOUT)
        await fake_discord.wait_bot_voice_ready(within=TIMEOUT)
        await fake_discord.wait_dave_ready(within=TIMEOUT)
        async with hearing(vc) as heard:
            report = await fake_discord.speak("alice", tone(660.0, 1.0))
            bot = await all_arrived(vc, report)
    finally:
        await vc.disconnect(force=True)
    record_property("dave_frames", {"member_to_bot": {**speech_counts(report), **bot}})
    assert report.undecryptable == 0
    assert bot["decoded"] == report.frames
    assert voiced_frequency(heard) == pytest.approx(660.0, abs=5.0)


async def test_every_member_decrypts_every_frame_the_bot_plays(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, record_property: Record
) -> None:
    for name in ("alice", "bob"):
        await fake_discord.move_member(name, fake_discord.voice_channel)
    vc = await connect(fake_discord, discord_bot)
    try:
        await fake_discord.wait_dave_ready(within=TIMEOUT)
        await play(vc, stereo(tone(440.0, 1.0)))
        await eventually(lambda: fake_discord.captured_audio().dave_sent >= 50, TIMEOUT)
        audio = fake_discord.captured_audio()
    finally:
        await vc.disconnect(force=True)
    members = [fake_discord.member(n).id for n in ("alice", "bob")]
    record_property("dave_frames", {"bot_to_members": {
        "sent": audio.dave_sent, "heard": dict(audio.heard),
        "lost": {m: dict(c) for m, c in audio.lost.items()}}})
    assert audio.dave_sent >= 50
    assert {m: audio.heard[m] for m in members} == dict.fromkeys(members, audio.dave_sent)
    assert not audio.lost
    assert not audio.drops
    assert dominant_frequency(audio.mono(), 48_000) == pytest.approx(440.0, abs=5.0)
