"""Receiving under DAVE: a real in-process MLS group, members' frames end to end.

The fake voice server (tests/fakes/dave) is the MLS external sender; the bot and
a member are real ``davey.DaveSession``s in one group. The member's client
DAVE-encrypts Opus, transport-encrypts RTP exactly as Discord clients do, and the
bot's receive pipeline must give back the same PCM as decoding the clear Opus.
"""

from __future__ import annotations

import pytest

from bot.voice.dave_decrypt import dave_decrypt
from bot.voice.decoder import FRAME_BYTES, StreamDecoder
from bot.voice.events import PcmFrame, ReceiveEvent, SpeakingEvent
from bot.voice.pipeline import ReceivePipeline
from bot.voice.rtp import SILENCE_FRAME, DropReason
from tests.fakes.dave import LocalDaveGroup
from tests.support.voice_packets import MODES, XCHACHA, RtpSender, one_byte_extension, opus_frames

BOT = 1_000_000_000_000_000_001
ALICE = 1_000_000_000_000_000_002
STRANGER = 1_000_000_000_000_000_003
ALICE_SSRC = 4242
KEY = bytes(range(100, 132))


class Channel:
    """The bot and Alice in one DAVE group, with Alice's RTP stream to the bot."""

    def __init__(self, mode: str = XCHACHA) -> None:
        self.group = LocalDaveGroup()
        self.bot = self.group.add_member(BOT)
        self.alice = self.group.add_member(ALICE)
        assert self.group.all_ready, self.group.errors
        self.pipeline = ReceivePipeline(dave=lambda: self.bot, self_user_id=BOT)
        self.pipeline.set_transport(mode, KEY)
        self.sender = RtpSender(ALICE_SSRC, mode, KEY, sequence=65530)
        self.now = 0.0

    def send(self, payload: bytes, **packet_options: object) -> list[ReceiveEvent]:
        """Alice's client sends one RTP packet carrying ``payload`` (already E2EE'd)."""
        self.now += 0.02
        datagram = self.sender.packet(payload, **packet_options)  # type: ignore[arg-type]
        admitted = self.pipeline.admit(datagram, self.now)
        assert admitted is not None
        return self.pipeline.process(admitted)

    def speak(self, frame: bytes, **packet_options: object) -> list[ReceiveEvent]:
        return self.send(self.alice.encrypt_opus(frame), **packet_options)

    def drops(self) -> dict[DropReason, int]:
        return dict(self.pipeline.stats.drops)


def pcm_frames(events: list[ReceiveEvent]) -> list[PcmFrame]:
    return [e for e in events if isinstance(e, PcmFrame)]


def reference_pcm(frames: list[bytes]) -> list[bytes]:
    decoder = StreamDecoder()
    return [decoder.decode(f) for f in frames]


@pytest.fixture
def channel() -> Channel:
    channel = Channel()
    channel.pipeline.bind(ALICE_SSRC, ALICE)
    return channel


@pytest.mark.parametrize("mode", MODES)
def test_member_frames_are_dave_decrypted_and_decoded_exactly(mode: str) -> None:
    channel = Channel(mode)
    channel.pipeline.bind(ALICE_SSRC, ALICE)
    frames = opus_frames(6)
    events: list[ReceiveEvent] = []
    for i, frame in enumerate(frames):
        extension = one_byte_extension({1: bytes([0x80 | i])})
        events += channel.speak(frame, extension=extension, padding=i)
    received = pcm_frames(events)
    assert [f.pcm for f in received] == reference_pcm(frames)
    assert all(f.member_id == ALICE and not f.concealed for f in received)
    assert all(len(f.pcm) == FRAME_BYTES for f in received)
    assert channel.pipeline.stats.frames_decoded == 6
    assert channel.drops() == {}


def test_speech_start_is_reported_for_the_member(channel: Channel) -> None:
    events = channel.speak(opus_frames(1)[0])
    assert events[0] == SpeakingEvent(ALICE, True, channel.now)


def test_replayed_frame_is_dropped_and_counted(channel: Channel) -> None:
    encrypted = channel.alice.encrypt_opus(opus_frames(1)[0])
    assert len(pcm_frames(channel.send(encrypted))) == 1
    # The same E2EE frame again, in a fresh RTP packet: DAVE's replay protection.
    assert pcm_frames(channel.send(encrypted)) == []
    assert channel.drops() == {DropReason.DAVE_NO_CRYPTOR: 1}


def test_frame_from_member_outside_the_group_is_dropped_and_counted(channel: Channel) -> None:
    channel.pipeline.bind(ALICE_SSRC, STRANGER)  # the SSRC now claims a non-member
    assert pcm_frames(channel.speak(opus_frames(1)[0])) == []
    assert channel.drops() == {DropReason.DAVE_NO_DECRYPTOR: 1}


@pytest.mark.parametrize("padding", [1, 4, 255])
def test_padded_frame_is_stripped_before_dave_and_decoded(channel: Channel, padding: int) -> None:
    frame = opus_frames(1)[0]
    received = pcm_frames(channel.speak(frame, padding=padding))
    assert [f.pcm for f in received] == reference_pcm([frame])
    assert channel.drops() == {}


def test_padding_left_on_a_frame_is_what_davey_rejects_as_unencrypted(channel: Channel) -> None:
    # Why stripping matters: the failure other receivers reported, reproduced directly.
    encrypted = channel.alice.encrypt_opus(opus_frames(1)[0])
    unstripped = encrypted + bytes(3) + b"\x04"
    assert dave_decrypt(channel.bot, ALICE, unstripped) is DropReason.DAVE_UNENCRYPTED


def test_clear_frame_from_a_member_is_dropped_as_unencrypted(channel: Channel) -> None:
    assert pcm_frames(channel.send(opus_frames(1)[0])) == []
    assert channel.drops() == {DropReason.DAVE_UNENCRYPTED: 1}


def test_silence_frame_passes_through_dave_unencrypted_and_is_decoded(channel: Channel) -> None:
    frame = opus_frames(1)[0]
    channel.speak(frame)
    received = pcm_frames(channel.send(SILENCE_FRAME))
    assert [f.pcm for f in received] == reference_pcm([frame, SILENCE_FRAME])[1:]
    assert not received[0].concealed
    assert channel.drops() == {}


def test_audio_before_speaking_op_is_attributed_by_trial_decryption() -> None:
    channel = Channel()  # no op 5 yet
    frames = opus_frames(3)
    events: list[ReceiveEvent] = []
    for frame in frames:
        events += channel.speak(frame)
    received = pcm_frames(events)
    assert [f.pcm for f in received] == reference_pcm(frames)
    assert {f.member_id for f in received} == {ALICE}
    assert channel.pipeline.stats.ssrcs_by_trial == 1
    assert channel.drops() == {}


def test_trial_decryption_leaves_other_members_streams_intact() -> None:
    channel = Channel()
    bob = channel.group.add_member(STRANGER)
    assert channel.group.all_ready, channel.group.errors
    frame = opus_frames(1)[0]
    channel.speak(frame)  # unattributed: trial against Bob (a miss) and Alice (a hit)
    channel.pipeline.bind(4343, STRANGER)
    bob_sender = RtpSender(4343, XCHACHA, KEY)
    admitted = channel.pipeline.admit(bob_sender.packet(bob.encrypt_opus(frame)), channel.now)
    assert admitted is not None
    assert [f.member_id for f in pcm_frames(channel.pipeline.process(admitted))] == [STRANGER]
    assert channel.drops() == {}


def test_silence_before_speaking_op_is_held_until_op_5() -> None:
    channel = Channel()
    assert channel.send(SILENCE_FRAME) == []
    events = channel.pipeline.bind(ALICE_SSRC, ALICE)
    assert [f.member_id for f in pcm_frames(events)] == [ALICE]


def test_member_who_left_stops_speaking_and_later_frames_are_rejected(channel: Channel) -> None:
    channel.speak(opus_frames(1)[0])
    alice = channel.group.remove_member(ALICE)
    events = channel.pipeline.client_disconnected(ALICE, channel.now)
    assert events == [SpeakingEvent(ALICE, False, channel.now)]
    channel.pipeline.bind(ALICE_SSRC, ALICE)  # a stale op 5 arriving late
    late = channel.send(alice.encrypt_opus(opus_frames(1)[0]))
    assert pcm_frames(late) == []
    assert sum(channel.drops().values()) == 1


def test_dave_off_means_frames_are_taken_as_clear_opus() -> None:
    pipeline = ReceivePipeline(dave=lambda: None)
    pipeline.set_transport(XCHACHA, KEY)
    pipeline.bind(ALICE_SSRC, ALICE)
    frame = opus_frames(1)[0]
    admitted = pipeline.admit(RtpSender(ALICE_SSRC, XCHACHA, KEY).packet(frame), 0.0)
    assert admitted is not None
    assert [f.pcm for f in pcm_frames(pipeline.process(admitted))] == reference_pcm([frame])
