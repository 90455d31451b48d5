"""A fake member's WAV, sent through the fake, reaches the bot's receive layer."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import discord
import numpy as np
import pytest

from bot.app import InterpretBot
from bot.voice.client import ReceivingVoiceClient
from bot.voice.events import PcmFrame, SpeakingEvent
from tests.fakes.discord import FakeDiscord
from tests.support.fixtures_discord import both_dave_impls
from tests.support.signals import dominant_frequency, tone

pytestmark = both_dave_impls


def write_wav(path: Path, samples: np.ndarray) -> Path:
    stereo = np.repeat(samples[:, None], 2, axis=1)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(48_000)
        wav.writeframes(stereo.astype(np.int16).tobytes())
    return path


async def collect_until_silent(vc: ReceivingVoiceClient, member_id: int) -> list[PcmFrame]:
    frames: list[PcmFrame] = []
    async for event in vc.receiver:
        if isinstance(event, PcmFrame) and not event.concealed:
            frames.append(event)
        elif (isinstance(event, SpeakingEvent) and not event.speaking and frames
              and event.member_id == member_id):
            break
    return frames


async def test_member_wav_arrives_in_receive_layer_as_the_same_speech(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, tmp_path: Path
) -> None:
    wav = write_wav(tmp_path / "alice.wav", tone(660.0, 1.0))
    alice = fake_discord.member("alice")
    await fake_discord.move_member(alice, fake_discord.voice_channel)
    channel = discord_bot.get_channel(fake_discord.voice_channel.id)
    assert isinstance(channel, discord.VoiceChannel)
    vc = await channel.connect(cls=ReceivingVoiceClient, timeout=10)
    try:
        await fake_discord.wait_bot_voice_ready()
        await fake_discord.wait_dave_ready()
        collecting = asyncio.create_task(collect_until_silent(vc, alice.id))
        report = await fake_discord.speak(alice, wav)
        frames = await asyncio.wait_for(collecting, 5)
    finally:
        await vc.disconnect(force=True)
    assert report.dave_encrypted == report.frames == 50
    assert {f.member_id for f in frames} == {alice.id}
    assert len(frames) >= 45
    pcm = np.frombuffer(b"".join(f.pcm for f in frames), dtype=np.int16).reshape(-1, 2)
    assert dominant_frequency(pcm[:, 0], 48_000) == pytest.approx(660.0, abs=5.0)


async def test_two_members_speaking_at_once_are_told_apart(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> None:
    alice, bob = fake_discord.member("alice"), fake_discord.member("bob")
    for member in (alice, bob):
        await fake_discord.move_member(member, fake_discord.voice_channel)
    channel = discord_bot.get_channel(fake_discord.voice_channel.id)
    assert isinstance(channel, discord.VoiceChannel)
    vc = await channel.connect(cls=ReceivingVoiceClient, timeout=10)
    try:
        await fake_discord.wait_bot_voice_ready()
        await fake_discord.wait_dave_ready()
        collecting = asyncio.create_task(collect_frames(vc, {alice.id, bob.id}))
        await asyncio.gather(fake_discord.speak(alice, tone(440.0, 0.6)),
                             fake_discord.speak(bob, tone(880.0, 0.6)))
        frames = await asyncio.wait_for(collecting, 5)
    finally:
        await vc.disconnect(force=True)
    for member, freq in ((alice, 440.0), (bob, 880.0)):
        mine = [f for f in frames if f.member_id == member.id]
        pcm = np.frombuffer(b"".join(f.pcm for f in mine), dtype=np.int16).reshape(-1, 2)
        assert len(mine) >= 25
        assert dominant_frequency(pcm[:, 0], 48_000) == pytest.approx(freq, abs=5.0)


async def collect_frames(vc: ReceivingVoiceClient, members: set[int]) -> list[PcmFrame]:
    """Voiced frames until every member in ``members`` went silent again."""
    frames: list[PcmFrame] = []
    silent: set[int] = set()
    async for event in vc.receiver:
        if isinstance(event, PcmFrame) and not event.concealed:
            frames.append(event)
        elif isinstance(event, SpeakingEvent) and not event.speaking:
            silent.add(event.member_id)
            if silent >= members:
                break
    return frames
