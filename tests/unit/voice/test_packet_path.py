"""Datagram → Opus payload: filtering, header parsing, transport decryption, stripping."""

from __future__ import annotations

import os

import pytest

from bot.voice.events import ReceiveStats
from bot.voice.pipeline import ReceivePipeline
from bot.voice.rtp import DropReason
from tests.support.voice_packets import (
    MODES,
    XCHACHA,
    RtpSender,
    ip_discovery_reply,
    one_byte_extension,
    rtcp_receiver_report,
    rtp_header,
    transport_encrypt,
)

KEY = bytes(range(32))
OPUS = b"\xfc" + bytes(range(1, 80))


def pipeline_for(mode: str, key: bytes = KEY) -> ReceivePipeline:
    pipeline = ReceivePipeline(dave=lambda: None, stats=ReceiveStats())
    pipeline.set_transport(mode, list(key))  # discord.py hands the key over as a list
    return pipeline


def drops(pipeline: ReceivePipeline) -> dict[DropReason, int]:
    return dict(pipeline.stats.drops)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("extension", "padding", "csrcs"),
    [
        (None, 0, ()),
        (one_byte_extension({1: b"\x7f"}), 0, ()),
        (None, 7, ()),
        (one_byte_extension({1: b"\x7f", 3: b"\x01\x02\x03"}), 13, ()),
        (one_byte_extension({1: b"\x10"}), 1, (0xDEADBEEF, 42)),
    ],
    ids=["plain", "X", "P", "X+P", "X+P+CSRC"],
)
def test_packet_recovers_exact_opus_payload(
    mode: str, extension: bytes | None, padding: int, csrcs: tuple[int, ...]
) -> None:
    sender = RtpSender(0x1234, mode, KEY, sequence=65535, timestamp=0xFFFFFC00)
    datagram = sender.packet(OPUS, extension=extension, padding=padding, csrcs=csrcs)
    packet = pipeline_for(mode).admit(datagram, now=5.0)
    assert packet is not None
    assert packet.payload == OPUS
    assert (packet.ssrc, packet.sequence, packet.timestamp) == (0x1234, 65535, 0xFFFFFC00)
    assert packet.received_at == 5.0


@pytest.mark.parametrize(
    ("datagram", "reason"),
    [
        (b"\x80\x78" + bytes(20), DropReason.TOO_SHORT),
        (ip_discovery_reply(7), DropReason.NOT_RTP),
        (rtcp_receiver_report(7), DropReason.RTCP),
        (
            rtp_header(ssrc=7, sequence=1, timestamp=1, payload_type=96) + bytes(40),
            DropReason.PAYLOAD_TYPE,
        ),
        (rtp_header(ssrc=7, sequence=1, timestamp=1, version=1) + bytes(40), DropReason.NOT_RTP),
        (
            rtp_header(ssrc=7, sequence=1, timestamp=1, csrcs=tuple(range(15))) + bytes(8),
            DropReason.TRUNCATED,
        ),
    ],
    ids=["short", "ip-discovery", "rtcp", "payload-type", "version-1", "csrcs-overrun"],
)
def test_non_audio_datagram_is_dropped_with_its_reason(datagram: bytes, reason: DropReason) -> None:
    pipeline = pipeline_for(XCHACHA)
    assert pipeline.admit(datagram, now=0.0) is None
    assert drops(pipeline) == {reason: 1}


@pytest.mark.parametrize("mode", MODES)
def test_tampered_packet_fails_authentication(mode: str) -> None:
    datagram = bytearray(RtpSender(1, mode, KEY).packet(OPUS))
    datagram[20] ^= 0x01
    pipeline = pipeline_for(mode)
    assert pipeline.admit(bytes(datagram), now=0.0) is None
    assert drops(pipeline) == {DropReason.TRANSPORT_AUTH: 1}


@pytest.mark.parametrize("mode", MODES)
def test_clear_header_is_authenticated(mode: str) -> None:
    datagram = bytearray(RtpSender(1, mode, KEY).packet(OPUS))
    datagram[3] ^= 0x01  # sequence number: part of the AAD
    pipeline = pipeline_for(mode)
    assert pipeline.admit(bytes(datagram), now=0.0) is None
    assert drops(pipeline) == {DropReason.TRANSPORT_AUTH: 1}


def test_packet_before_any_session_description_is_dropped_for_no_key() -> None:
    pipeline = ReceivePipeline(dave=lambda: None)
    assert pipeline.admit(RtpSender(1, XCHACHA, KEY).packet(OPUS), now=0.0) is None
    assert drops(pipeline) == {DropReason.NO_KEY: 1}


def test_new_session_description_switches_key_and_mode() -> None:
    new_key = os.urandom(32)
    pipeline = pipeline_for(XCHACHA)
    pipeline.set_transport("aead_aes256_gcm_rtpsize", new_key)
    old = RtpSender(1, XCHACHA, KEY).packet(OPUS)
    new = RtpSender(1, "aead_aes256_gcm_rtpsize", new_key).packet(OPUS)
    assert pipeline.admit(old, now=0.0) is None
    admitted = pipeline.admit(new, now=0.0)
    assert admitted is not None
    assert admitted.payload == OPUS


def test_unsupported_mode_disables_receive_instead_of_raising() -> None:
    pipeline = pipeline_for(XCHACHA)
    pipeline.set_transport("xsalsa20_poly1305_lite", KEY)
    assert pipeline.admit(RtpSender(1, XCHACHA, KEY).packet(OPUS), now=0.0) is None
    assert drops(pipeline) == {DropReason.NO_KEY: 1}


@pytest.mark.parametrize("mode", MODES)
def test_padding_count_beyond_payload_is_dropped_as_bad_padding(mode: str) -> None:
    # P bit set, the last plaintext byte claims more padding than there is payload.
    header = rtp_header(ssrc=1, sequence=1, timestamp=960, padding=True)
    forged = transport_encrypt(mode, KEY, header, b"\x01\x02\xff", 9)
    pipeline = pipeline_for(mode)
    assert pipeline.admit(forged, now=0.0) is None
    assert drops(pipeline) == {DropReason.BAD_PADDING: 1}


@pytest.mark.parametrize("mode", MODES)
def test_extension_without_payload_is_dropped_as_empty(mode: str) -> None:
    datagram = RtpSender(1, mode, KEY).packet(b"", extension=one_byte_extension({1: b"\x01"}))
    pipeline = pipeline_for(mode)
    assert pipeline.admit(datagram, now=0.0) is None
    assert drops(pipeline) == {DropReason.EMPTY: 1}
