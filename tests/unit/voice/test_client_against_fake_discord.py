"""ReceivingVoiceClient against the wire-level fake Discord: a member speaks, we hear.

The bot joins with ``channel.connect(cls=ReceivingVoiceClient)``; discord.py runs
the real voice handshake, DAVE group formation and UDP; the fake member's client
sends DAVE + transport-encrypted RTP. Our hook and socket listener must turn it
into the member's PCM.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import numpy as np
import pytest

from bot.app import InterpretBot
from bot.voice.client import ReceivingVoiceClient
from bot.voice.events import PcmFrame, ReceiveEvent, SpeakingEvent
from tests.fakes.discord import FakeDiscord
from tests.support.fixtures_discord import both_dave_impls
from tests.support.signals import dominant_frequency, tone
from tests.support.waiting import eventually

TIMEOUT = 10.0

pytestmark = both_dave_impls


@pytest.fixture
async def receiving_client(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> AsyncIterator[ReceivingVoiceClient]:
    await fake_discord.move_member("alice", fake_discord.voice_channel)
    channel = discord_bot.get_channel(fake_discord.voice_channel.id)
    assert isinstance(channel, discord.VoiceChannel)
    vc = await channel.connect(cls=ReceivingVoiceClient, timeout=TIMEOUT)
    await fake_discord.wait_bot_voice_ready()
    await fake_discord.wait_dave_ready()
    try:
        yield vc
    finally:
        if vc.is_connected():
            await vc.disconnect(force=True)


async def until_speech_ends(vc: ReceivingVoiceClient) -> list[ReceiveEvent]:
    items: list[ReceiveEvent] = []
    async with asyncio.timeout(TIMEOUT):
        async for item in vc.receiver:
            items.append(item)
            if isinstance(item, SpeakingEvent) and not item.speaking:
                return items
    return items


async def test_member_speech_under_dave_arrives_as_their_pcm(
    fake_discord: FakeDiscord, receiving_client: ReceivingVoiceClient
) -> None:
    alice = fake_discord.member("alice")
    report = await fake_discord.speak("alice", tone(500.0, 0.5))
    items = await until_speech_ends(receiving_client)
    frames = [i for i in items if isinstance(i, PcmFrame)]
    assert report.dave_encrypted == report.frames
    assert {f.member_id for f in frames} == {alice.id}
    voiced = frames[: report.frames]
    assert not any(f.concealed for f in voiced)
    left = np.frombuffer(b"".join(f.pcm for f in voiced), dtype="<i2")[::2]
    assert abs(dominant_frequency(left, 48_000) - 500.0) < 10.0
    stats = receiving_client.receiver.stats
    assert stats.frames_decoded == len(frames)
    assert not receiving_client.receiver.is_bot(alice.id)


async def test_receiver_stops_with_the_voice_client(
    receiving_client: ReceivingVoiceClient,
) -> None:
    await receiving_client.disconnect(force=True)
    assert [item async for item in receiving_client.receiver] == []


async def test_a_client_discord_disconnected_leaves_without_asking_again(
    fake_discord: FakeDiscord, receiving_client: ReceivingVoiceClient
) -> None:
    await fake_discord.move_member("interpret-bot", None)  # kicked by a moderator
    await eventually(lambda: not receiving_client.is_connected(), TIMEOUT)
    # discord.py asked to leave by itself, once.
    await eventually(lambda: leave_requests(fake_discord) == 1, TIMEOUT)

    # discord.py's own disconnect would ask again, then wait its whole timeout for a
    # confirmation no longer routed to this client.
    await receiving_client.disconnect(force=True)

    assert leave_requests(fake_discord) == 1
    assert [item async for item in receiving_client.receiver] == []


def leave_requests(fake: FakeDiscord) -> int:
    """The bot's gateway op 4 frames asking to leave voice (``channel_id`` null)."""
    return sum(1 for frame in fake.gateway.received
               if frame.get("op") == 4 and (frame.get("d") or {}).get("channel_id") is None)


async def test_member_leaving_mid_speech_ends_their_speech(
    fake_discord: FakeDiscord, receiving_client: ReceivingVoiceClient
) -> None:
    alice = fake_discord.member("alice")
    speech = await fake_discord.start_speaking("alice", tone(300.0, 1.0))
    after_leaving: list[ReceiveEvent] = []
    async with asyncio.timeout(TIMEOUT):
        async for item in receiving_client.receiver:
            if isinstance(item, PcmFrame) and not after_leaving:
                await fake_discord.move_member("alice", None)  # op 13 CLIENT_DISCONNECT
                after_leaving.append(item)
            elif after_leaving:
                after_leaving.append(item)
                if isinstance(item, SpeakingEvent):
                    break
    # Ended by op 13 while her client was still sending, not by her going quiet.
    assert not speech.done()
    await speech
    assert after_leaving[-1] == SpeakingEvent(alice.id, False, after_leaving[-1].at)
