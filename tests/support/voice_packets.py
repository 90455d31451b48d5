"""The sender side of Discord voice UDP, as a Discord client produces it.

Shared by the receive-layer tests and the fake Discord voice server: both need
datagrams byte-for-byte like a real member's client sends them. Written from the
protocol description (PROTOCOLS.md §3), independently of ``bot.voice``, so the
receive layer is checked against an oracle rather than against itself.

A datagram is ``RTP header | [extension preamble] | ciphertext | nonce counter``:

- RTP header: version 2, P (padding) and X (extension) bits, CSRC count, marker,
  payload type 120 (Opus), 16-bit sequence, 32-bit timestamp, SSRC, CSRCs.
- The 4-byte extension preamble (profile ``0xBEDE`` + length in 32-bit words) stays
  clear; the extension *body* is encrypted together with the payload ("rtpsize").
- AAD = the clear header (including the preamble when X is set).
- Nonce = a 32-bit big-endian counter, zero-padded to 24 bytes (XChaCha20-Poly1305)
  or 12 bytes (AES-256-GCM); its 4 bytes are appended after the ciphertext.
- With P set, the plaintext ends with ``padding`` bytes whose last byte is their count.

The payload handed to :meth:`RtpSender.packet` is what sits inside transport
encryption: an Opus frame, already DAVE-encrypted by the caller when the test is
about DAVE (``dave_session.encrypt_opus(frame)``).
"""

from __future__ import annotations

import struct
from typing import Final, Literal

import discord.opus
import numpy as np
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_encrypt

XCHACHA: Final = "aead_xchacha20_poly1305_rtpsize"
AES_GCM: Final = "aead_aes256_gcm_rtpsize"
TransportMode = Literal["aead_xchacha20_poly1305_rtpsize", "aead_aes256_gcm_rtpsize"]
MODES: Final[tuple[TransportMode, ...]] = (XCHACHA, AES_GCM)

OPUS_PAYLOAD_TYPE: Final = 120
SAMPLES_PER_FRAME: Final = 960  # 20 ms at 48 kHz: the RTP timestamp step
SILENCE_FRAME: Final = b"\xf8\xff\xfe"  # Opus silence, sent unencrypted by DAVE
ONE_BYTE_EXTENSION_PROFILE: Final = 0xBEDE

_U16: Final = 0xFFFF
_U32: Final = 0xFFFFFFFF


def rtp_header(
    *,
    ssrc: int,
    sequence: int,
    timestamp: int,
    payload_type: int = OPUS_PAYLOAD_TYPE,
    marker: bool = False,
    padding: bool = False,
    csrcs: tuple[int, ...] = (),
    extension_words: int | None = None,
    extension_profile: int = ONE_BYTE_EXTENSION_PROFILE,
    version: int = 2,
) -> bytes:
    """The clear part of an RTP header: fixed header, CSRCs, extension preamble.

    ``extension_words`` is the extension body length in 32-bit words; ``None``
    means no extension (X bit clear).
    """
    if len(csrcs) > 15:
        raise ValueError("at most 15 CSRCs fit in the CC field")
    has_ext = extension_words is not None
    first = (version << 6) | (int(padding) << 5) | (int(has_ext) << 4) | len(csrcs)
    second = (int(marker) << 7) | (payload_type & 0x7F)
    header = struct.pack(">BBHII", first, second, sequence & _U16, timestamp & _U32, ssrc & _U32)
    header += b"".join(struct.pack(">I", c & _U32) for c in csrcs)
    if extension_words is not None:
        header += struct.pack(">HH", extension_profile, extension_words)
    return header


def one_byte_extension(elements: dict[int, bytes]) -> bytes:
    """An RFC 8285 one-byte-header extension body, zero-padded to 32-bit words.

    Discord clients send e.g. the audio level (id 1) this way.
    """
    body = bytearray()
    for ext_id, value in elements.items():
        if not 1 <= ext_id <= 14 or not 1 <= len(value) <= 16:
            raise ValueError("one-byte extension ids are 1..14 with 1..16 bytes of data")
        body.append((ext_id << 4) | (len(value) - 1))
        body += value
    body += b"\x00" * (-len(body) % 4)
    return bytes(body)


def transport_encrypt(
    mode: str, key: bytes, header: bytes, plaintext: bytes, counter: int
) -> bytes:
    """Encrypt ``plaintext`` with ``header`` as AAD; returns ``header|ct|tag|counter``."""
    counter_bytes = struct.pack(">I", counter & _U32)
    if mode == XCHACHA:
        nonce = counter_bytes + bytes(20)
        sealed = crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, header, nonce, key)
    elif mode == AES_GCM:
        nonce = counter_bytes + bytes(8)
        sealed = AESGCM(key).encrypt(nonce, plaintext, header)
    else:
        raise ValueError(f"unsupported transport mode {mode!r}")
    return header + sealed + counter_bytes


class RtpSender:
    """One member's outgoing RTP stream: numbering, timestamps and encryption.

    Sequence numbers and the nonce counter advance by one per packet, the RTP
    timestamp by ``timestamp_step`` (960 = 20 ms); all wrap like a real client's.
    Set ``sequence``/``timestamp``/``nonce`` to start near a wrap-around.
    """

    def __init__(
        self,
        ssrc: int,
        mode: str,
        secret_key: bytes,
        *,
        sequence: int = 0,
        timestamp: int = 0,
        nonce: int = 0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unsupported transport mode {mode!r}")
        if len(secret_key) != 32:
            raise ValueError("the secret key is 32 bytes")
        self.ssrc = ssrc
        self.mode = mode
        self.secret_key = bytes(secret_key)
        self.sequence = sequence & _U16
        self.timestamp = timestamp & _U32
        self.nonce = nonce & _U32
        self._sent_any = False

    def rekey(self, mode: str, secret_key: bytes) -> None:
        """Switch key and mode, as after a new op 4 SESSION_DESCRIPTION."""
        if mode not in MODES:
            raise ValueError(f"unsupported transport mode {mode!r}")
        self.mode = mode
        self.secret_key = bytes(secret_key)

    def packet(
        self,
        payload: bytes,
        *,
        timestamp_step: int = SAMPLES_PER_FRAME,
        marker: bool = False,
        extension: bytes | None = None,
        padding: int = 0,
        csrcs: tuple[int, ...] = (),
    ) -> bytes:
        """The next datagram carrying ``payload``.

        ``timestamp_step`` is added *before* this packet (except the first one
        sent), so a DTX pause of N frames is ``timestamp_step=960 * (N + 1)``.
        ``extension`` is the extension body (a multiple of 4 bytes, e.g. from
        :func:`one_byte_extension`); ``padding`` adds that many RTP padding bytes
        (1..255) and sets the P bit.
        """
        if extension is not None and len(extension) % 4:
            raise ValueError("the extension body is a whole number of 32-bit words")
        if not 0 <= padding <= 255:
            raise ValueError("RTP padding is 0..255 bytes")
        if self._sent_any:
            self.sequence = (self.sequence + 1) & _U16
            self.timestamp = (self.timestamp + timestamp_step) & _U32
        self._sent_any = True
        header = rtp_header(
            ssrc=self.ssrc,
            sequence=self.sequence,
            timestamp=self.timestamp,
            marker=marker,
            padding=padding > 0,
            csrcs=csrcs,
            extension_words=None if extension is None else len(extension) // 4,
        )
        pad = b"" if padding == 0 else bytes(padding - 1) + bytes([padding])
        plaintext = (extension or b"") + payload + pad
        datagram = transport_encrypt(self.mode, self.secret_key, header, plaintext, self.nonce)
        self.nonce = (self.nonce + 1) & _U32
        return datagram


def rtcp_receiver_report(ssrc: int) -> bytes:
    """A minimal RTCP receiver report (packet type 201): must be ignored."""
    return struct.pack(">BBHI", 0x80, 201, 7, ssrc & _U32) + bytes(24)


def ip_discovery_reply(ssrc: int, ip: str = "127.0.0.1", port: int = 50000) -> bytes:
    """The 74-byte IP discovery response discord.py waits for on the same socket."""
    packet = bytearray(74)
    struct.pack_into(">HHI", packet, 0, 2, 70, ssrc & _U32)
    raw_ip = ip.encode("ascii")
    packet[8 : 8 + len(raw_ip)] = raw_ip
    struct.pack_into(">H", packet, 72, port)
    return bytes(packet)


def tone_pcm(frames: int, *, frequency: float = 440.0, amplitude: float = 0.3) -> list[bytes]:
    """``frames`` consecutive 20 ms frames of a stereo sine (48 kHz s16le, 3840 bytes each)."""
    t = np.arange(frames * SAMPLES_PER_FRAME) / 48_000
    mono = (np.sin(2 * np.pi * frequency * t) * amplitude * 32767).astype("<i2")
    stereo = np.repeat(mono, 2).reshape(frames, SAMPLES_PER_FRAME * 2)
    return [row.tobytes() for row in stereo]


def opus_frames(frames: int, *, frequency: float = 440.0) -> list[bytes]:
    """Real Opus packets (20 ms, in-band FEC on) of a sine, as a member's client encodes."""
    if not discord.opus.is_loaded():
        discord.opus._load_default()
    encoder = discord.opus.Encoder()
    return [encoder.encode(pcm, SAMPLES_PER_FRAME) for pcm in tone_pcm(frames, frequency=frequency)]
