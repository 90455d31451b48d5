"""RTP filtering and header parsing: the first, pure step of the receive path.

The voice UDP socket carries more than members' audio: IP-discovery replies, RTCP
reports and keepalive echoes share it. :func:`parse_header` keeps only what can be
Discord Opus audio (version 2, payload type 120, long enough) and locates the
clear header, which is also the AAD of transport encryption. In the "rtpsize"
modes only the 4-byte extension *preamble* is clear; the extension body travels
encrypted with the payload, so :func:`strip_payload` removes it after
decryption, together with RTP padding (P bit, last byte = padding length).
Forgetting the padding is what made other receivers lose frames to DAVE's
``UnencryptedWhenPassthroughDisabled``.

Nothing here raises on malformed input: failures come back as a :class:`DropReason`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

MIN_PACKET: Final = 32
"""Shorter datagrams cannot hold header + tag + nonce counter of a voice packet."""
OPUS_PAYLOAD_TYPE: Final = 120
RTCP_TYPES: Final = range(200, 205)
FIXED_HEADER: Final = 12
EXTENSION_PREAMBLE: Final = 4
SEALED_OVERHEAD: Final = 20
"""AEAD tag (16) + nonce counter (4) that follow the clear header in both modes."""
SILENCE_FRAME: Final = b"\xf8\xff\xfe"
"""The Opus frame clients send (unencrypted, even under DAVE) before going quiet."""


class DropReason(StrEnum):
    """Why a datagram or frame never became PCM; every drop is counted under one."""

    TOO_SHORT = "too_short"
    NOT_RTP = "not_rtp"
    RTCP = "rtcp"
    PAYLOAD_TYPE = "payload_type"
    TRUNCATED = "truncated"
    NO_KEY = "no_key"
    TRANSPORT_AUTH = "transport_auth"
    BAD_PADDING = "bad_padding"
    QUEUE_FULL = "queue_full"
    NOT_RUNNING = "not_running"
    UNKNOWN_SSRC = "unknown_ssrc"
    DAVE_NO_DECRYPTOR = "dave_no_decryptor"
    DAVE_NO_CRYPTOR = "dave_no_cryptor"
    DAVE_UNENCRYPTED = "dave_unencrypted"
    DAVE_OTHER = "dave_other"
    LATE = "late"
    DUPLICATE = "duplicate"
    OPUS_ERROR = "opus_error"
    OUTPUT_FULL = "output_full"
    EMPTY = "empty"


@dataclass(frozen=True, slots=True)
class RtpHeader:
    """The fields of a voice packet's RTP header that the receive path needs."""

    sequence: int
    timestamp: int
    ssrc: int
    marker: bool
    has_padding: bool
    clear_length: int
    """Bytes of clear header: 12 + 4·CSRC count (+4 preamble with the X bit); the AAD."""
    extension_length: int
    """Bytes of encrypted extension body at the start of the plaintext."""


def parse_header(datagram: bytes) -> RtpHeader | DropReason:
    """Parse the clear header of ``datagram`` or say why it is not voice audio."""
    size = len(datagram)
    if size < MIN_PACKET:
        return DropReason.TOO_SHORT
    first = datagram[0]
    second = datagram[1]
    if first >> 6 != 2:
        return DropReason.NOT_RTP
    if second in RTCP_TYPES:
        return DropReason.RTCP
    if second & 0x7F != OPUS_PAYLOAD_TYPE:
        return DropReason.PAYLOAD_TYPE
    clear = FIXED_HEADER + 4 * (first & 0x0F)
    extension = 0
    if first & 0x10:
        if size < clear + EXTENSION_PREAMBLE:
            return DropReason.TRUNCATED
        extension = 4 * int.from_bytes(datagram[clear + 2 : clear + 4], "big")
        clear += EXTENSION_PREAMBLE
    if size < clear + SEALED_OVERHEAD:
        return DropReason.TRUNCATED
    return RtpHeader(
        sequence=int.from_bytes(datagram[2:4], "big"),
        timestamp=int.from_bytes(datagram[4:8], "big"),
        ssrc=int.from_bytes(datagram[8:12], "big"),
        marker=bool(second & 0x80),
        has_padding=bool(first & 0x20),
        clear_length=clear,
        extension_length=extension,
    )


def strip_payload(header: RtpHeader, plaintext: bytes) -> bytes | DropReason:
    """Remove the extension body (front) and RTP padding (end) from ``plaintext``."""
    end = len(plaintext)
    if header.has_padding:
        if end == 0:
            return DropReason.BAD_PADDING
        padding = plaintext[-1]
        if padding == 0 or padding > end - header.extension_length:
            return DropReason.BAD_PADDING
        end -= padding
    start = header.extension_length
    if start > end:
        return DropReason.TRUNCATED
    if start == end:
        return DropReason.EMPTY
    return plaintext[start:end]
