"""Voice: the bot joins with DAVE, sends audio the fake decodes, sees members come and go.

Every test runs with the members' clients on davey and on libdave (Discord's own).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import discord
import numpy as np
import pytest

from bot.app import InterpretBot
from tests.fakes.discord import FakeDiscord
from tests.support.fixtures_discord import both_dave_impls, running_bot
from tests.support.signals import dominant_frequency, tone

pytestmark = both_dave_impls


@pytest.fixture
async def voice_client(
    fake_discord: FakeDiscord, discord_bot: InterpretBot
) -> AsyncIterator[discord.VoiceClient]:
    """The bot in the voice channel with alice, DAVE group settled."""
    await fake_discord.move_member("alice", fake_discord.voice_channel)
    channel = discord_bot.get_channel(fake_discord.voice_channel.id)
    assert isinstance(channel, discord.VoiceChannel)
    vc: discord.VoiceClient = await channel.connect(timeout=10)
    await fake_discord.wait_bot_voice_ready()
    await fake_discord.wait_dave_ready()
    try:
        yield vc
    finally:
        await vc.disconnect(force=True)


async def play(vc: discord.VoiceClient, pcm: np.ndarray) -> None:
    done = asyncio.get_running_loop().create_future()

    def after(error: Exception | None) -> None:
        def settle() -> None:
            if not done.done():
                done.set_result(error)

        done.get_loop().call_soon_threadsafe(settle)

    vc.play(discord.PCMAudio(io.BytesIO(pcm.tobytes())), after=after)
    assert await asyncio.wait_for(done, 10) is None


async def test_bot_joins_voice_with_dave_and_privacy_codes_match(
    fake_discord: FakeDiscord, voice_client: discord.VoiceClient
) -> None:
    bot_session = voice_client._connection.dave_session
    alice = fake_discord.voice_call().members[fake_discord.member("alice").id]
    assert bot_session is not None
    assert alice.client is not None
    assert voice_client._connection.dave_protocol_version == 1
    assert bot_session.voice_privacy_code
    assert bot_session.voice_privacy_code == alice.client.privacy_code


async def test_bot_audio_is_decoded_back_to_the_same_tone(
    fake_discord: FakeDiscord, voice_client: discord.VoiceClient
) -> None:
    sent = np.repeat(tone(440.0, 1.0)[:, None], 2, axis=1)
    await play(voice_client, sent)
    await fake_discord.wait_for(lambda: len(fake_discord.captured_audio().frames) >= 50,
                                what="50 decoded frames")
    audio = fake_discord.captured_audio()
    assert audio.dave_frames == len(audio.frames)
    assert not audio.drops
    received = audio.mono()
    assert dominant_frequency(received, 48_000) == pytest.approx(440.0, abs=5.0)
    # Same waveform within codec tolerance: align by cross-correlation, then compare.
    ref = sent[:, 0].astype(np.float64)
    lag = int(np.argmax(np.correlate(received[:4800], ref[:2400], mode="valid")))
    n = min(len(ref), len(received) - lag) - 960
    a, b = ref[:n], received[lag:lag + n]
    assert float(np.corrcoef(a, b)[0, 1]) > 0.95


async def test_bot_transport_mode_and_speaking_state_are_recorded(
    fake_discord: FakeDiscord, voice_client: discord.VoiceClient
) -> None:
    conn = fake_discord.bot_voice()
    assert conn is not None
    assert conn.mode == "aead_xchacha20_poly1305_rtpsize"
    await play(voice_client, np.zeros((960 * 5, 2), dtype=np.int16))
    assert [s["speaking"] for s in conn.speaking][:2] == [0, 1]


async def test_member_join_and_leave_reach_the_bot(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, voice_client: discord.VoiceClient
) -> None:
    channel = voice_client.channel
    bob = fake_discord.member("bob")
    await fake_discord.move_member(bob, fake_discord.voice_channel)
    await fake_discord.wait_for(lambda: bob.id in {m.id for m in channel.members},
                                what="bob in the voice channel")
    await fake_discord.wait_dave_ready()
    bob_client = fake_discord.voice_call().members[bob.id].client
    assert bob_client is not None
    bot_session = voice_client._connection.dave_session
    assert bot_session is not None
    assert bob_client.privacy_code == bot_session.voice_privacy_code
    await fake_discord.move_member(bob, None)
    await fake_discord.wait_for(lambda: bob.id not in {m.id for m in channel.members},
                                what="bob gone from the voice channel")


async def test_voice_heartbeats_carry_seq_ack(
    fake_discord: FakeDiscord, voice_client: discord.VoiceClient
) -> None:
    conn = fake_discord.bot_voice()
    assert conn is not None
    await fake_discord.wait_for(lambda: conn.seq_acks, within=8, what="a voice heartbeat")
    assert conn.seq_acks[-1] > 0


async def test_bot_follows_a_voice_server_change_with_a_new_key_and_dave_leaf(
    fake_discord: FakeDiscord, voice_client: discord.VoiceClient
) -> None:
    first = fake_discord.bot_voice()
    assert first is not None
    await fake_discord.migrate_bot_voice()
    await fake_discord.wait_for(lambda: fake_discord.bot_voice() is not first,
                                what="a new voice connection")
    second = await fake_discord.wait_bot_voice_ready()
    assert second.ssrc != first.ssrc
    assert second.secret_key != first.secret_key
    await fake_discord.wait_dave_ready()
    await play(voice_client, np.repeat(tone(523.0, 0.4)[:, None], 2, axis=1))
    await fake_discord.wait_for(lambda: any(f.dave for f in second.recorder.audio.frames),
                                what="audio on the new connection")
    decoded = second.recorder.audio.mono()
    assert dominant_frequency(decoded, 48_000) == pytest.approx(523.0, abs=5.0)


async def test_member_moving_to_another_channel_leaves_the_bots_call(
    fake_discord: FakeDiscord, discord_bot: InterpretBot, voice_client: discord.VoiceClient
) -> None:
    lobby = await fake_discord.add_channel("Lobby")
    alice = fake_discord.member("alice")
    lobby_channel = await fake_discord.wait_for(lambda: discord_bot.get_channel(lobby.id),
                                                what="CHANNEL_CREATE")
    assert isinstance(lobby_channel, discord.VoiceChannel)
    await fake_discord.move_member(alice, lobby)
    await fake_discord.wait_for(lambda: alice.id in {m.id for m in lobby_channel.members},
                                what="alice in the lobby")
    call = fake_discord.voice_call()
    assert alice.id not in call.members
    assert call.dave is not None
    assert call.dave.connected == (fake_discord.bot_user_id,)


async def test_dave_group_rekeys_when_a_member_leaves(
    fake_discord: FakeDiscord, voice_client: discord.VoiceClient
) -> None:
    bob = fake_discord.member("bob")
    await fake_discord.move_member(bob, fake_discord.voice_channel)
    await fake_discord.wait_dave_ready()
    call = fake_discord.voice_call()
    assert call.dave is not None
    epoch_with_bob = call.dave.epoch
    await fake_discord.move_member(bob, None)
    await fake_discord.wait_for(lambda: call.dave is not None and call.dave.epoch > epoch_with_bob,
                                what="a new epoch")
    await fake_discord.wait_dave_ready()
    bot_session = voice_client._connection.dave_session
    alice = call.members[fake_discord.member("alice").id]
    assert bot_session is not None
    assert alice.client is not None
    assert set(call.dave.members) == {fake_discord.bot_user_id, alice.user_id}
    assert bot_session.voice_privacy_code == alice.client.privacy_code


async def test_members_already_in_voice_arrive_with_guild_create(
    fake_discord: FakeDiscord,
) -> None:
    await fake_discord.move_member("bob", fake_discord.voice_channel)
    async with running_bot(fake_discord) as bot:
        channel = bot.get_channel(fake_discord.voice_channel.id)
        assert isinstance(channel, discord.VoiceChannel)
        assert [m.id for m in channel.members] == [fake_discord.member("bob").id]
