"""The receive pipeline without DAVE: attribution, loss handling, lifecycle events."""

from __future__ import annotations

from bot.voice.decoder import FRAME_BYTES, SILENCE_PCM
from bot.voice.events import PcmFrame, ReceiveEvent, SpeakingEvent
from bot.voice.pipeline import MAX_UNATTRIBUTED_SSRCS, UNATTRIBUTED_HOLD, ReceivePipeline
from bot.voice.rtp import DropReason
from tests.support.voice_packets import XCHACHA, RtpSender, opus_frames

KEY = bytes(32)
MEMBER = 77
SSRC = 9


class Stream:
    def __init__(self, ssrc: int = SSRC) -> None:
        self.pipeline = ReceivePipeline(dave=lambda: None)
        self.pipeline.set_transport(XCHACHA, KEY)
        self.sender = RtpSender(ssrc, XCHACHA, KEY)
        self.now = 0.0

    def datagram(self, frame: bytes, *, timestamp_step: int = 960) -> bytes:
        return self.sender.packet(frame, timestamp_step=timestamp_step)

    def deliver(self, datagram: bytes) -> list[ReceiveEvent]:
        self.now += 0.02
        packet = self.pipeline.admit(datagram, self.now)
        assert packet is not None
        return self.pipeline.process(packet)


def frames_of(events: list[ReceiveEvent]) -> list[PcmFrame]:
    return [e for e in events if isinstance(e, PcmFrame)]


def test_lost_packet_is_rebuilt_with_fec_and_flagged_concealed() -> None:
    stream = Stream()
    stream.pipeline.bind(SSRC, MEMBER)
    packets = [stream.datagram(f) for f in opus_frames(6)]
    events: list[ReceiveEvent] = []
    for index, datagram in enumerate(packets):
        if index != 2:
            events += stream.deliver(datagram)
    frames = frames_of(events)
    assert [f.concealed for f in frames] == [False, False, True, False, False, False]
    assert [f.rtp_timestamp for f in frames] == [960 * i for i in range(6)]
    assert stream.pipeline.stats.frames_fec == 1
    assert all(len(f.pcm) == FRAME_BYTES for f in frames)


def test_dtx_pause_is_filled_with_real_silence_not_concealment() -> None:
    stream = Stream()
    stream.pipeline.bind(SSRC, MEMBER)
    first, second = opus_frames(2)
    stream.deliver(stream.datagram(first))
    frames = frames_of(stream.deliver(stream.datagram(second, timestamp_step=960 * 4)))
    assert [(f.pcm == SILENCE_PCM, f.concealed) for f in frames[:3]] == [(True, False)] * 3
    assert stream.pipeline.stats.frames_silence == 3
    assert stream.pipeline.stats.frames_concealed == 0


def test_audio_from_unknown_ssrc_is_held_and_released_by_op_5() -> None:
    stream = Stream()
    for frame in opus_frames(3):
        assert stream.deliver(stream.datagram(frame)) == []
    frames = frames_of(stream.pipeline.bind(SSRC, MEMBER))
    assert [f.member_id for f in frames] == [MEMBER] * 3


def test_unattributed_audio_expires_and_is_counted() -> None:
    stream = Stream()
    for frame in opus_frames(3):
        stream.deliver(stream.datagram(frame))
    stream.pipeline.tick(stream.now + UNATTRIBUTED_HOLD + 0.1)
    assert stream.pipeline.bind(SSRC, MEMBER) == []
    assert stream.pipeline.stats.drops == {DropReason.UNKNOWN_SSRC: 3}


def test_unattributed_ssrcs_are_bounded() -> None:
    pipeline = ReceivePipeline(dave=lambda: None)
    pipeline.set_transport(XCHACHA, KEY)
    frame = opus_frames(1)[0]
    for ssrc in range(MAX_UNATTRIBUTED_SSRCS + 5):
        packet = pipeline.admit(RtpSender(ssrc + 1, XCHACHA, KEY).packet(frame), 0.0)
        assert packet is not None
        pipeline.process(packet)
    assert pipeline.stats.drops == {DropReason.UNKNOWN_SSRC: 5}


def test_disconnect_ends_speech_and_forgets_the_ssrc() -> None:
    stream = Stream()
    stream.pipeline.bind(SSRC, MEMBER)
    frame = opus_frames(2)
    stream.deliver(stream.datagram(frame[0]))
    assert stream.pipeline.client_disconnected(MEMBER, 5.0) == [SpeakingEvent(MEMBER, False, 5.0)]
    assert stream.deliver(stream.datagram(frame[1])) == []  # held as unattributed again


def test_reset_ends_every_talkspurt_and_restarts_decoding() -> None:
    stream = Stream()
    stream.pipeline.bind(SSRC, MEMBER)
    frames = opus_frames(2)
    stream.deliver(stream.datagram(frames[0]))
    assert stream.pipeline.reset(3.0) == [SpeakingEvent(MEMBER, False, 3.0)]
    again = stream.deliver(stream.datagram(frames[1]))
    assert again[0] == SpeakingEvent(MEMBER, True, stream.now)


def test_ssrc_rebound_to_another_member_starts_a_new_stream() -> None:
    stream = Stream()
    stream.pipeline.bind(SSRC, MEMBER)
    frames = opus_frames(2)
    stream.deliver(stream.datagram(frames[0]))
    stream.pipeline.bind(SSRC, MEMBER + 1)
    assert [f.member_id for f in frames_of(stream.deliver(stream.datagram(frames[1])))] == [
        MEMBER + 1
    ]


def test_corrupt_opus_becomes_counted_concealed_silence() -> None:
    stream = Stream()
    stream.pipeline.bind(SSRC, MEMBER)
    frames = frames_of(stream.deliver(stream.datagram(b"\xff\xff\xff\xff\xff")))
    assert [(f.pcm, f.concealed) for f in frames] == [(SILENCE_PCM, True)]
    assert stream.pipeline.stats.drops == {DropReason.OPUS_ERROR: 1}


def test_close_flushes_buffered_audio_and_ends_speech() -> None:
    stream = Stream()
    stream.pipeline.bind(SSRC, MEMBER)
    packets = [stream.datagram(f) for f in opus_frames(3)]
    stream.deliver(packets[0])
    stream.deliver(packets[2])
    events = stream.pipeline.close(9.0)
    assert [f.concealed for f in frames_of(events)] == [True, False]
    assert events[-1] == SpeakingEvent(MEMBER, False, 9.0)
