"""Decoding and recording the bot's outgoing voice (what Discord would relay).

Per datagram: parse the RTP header, undo transport encryption (both rtpsize AEAD
modes), undo DAVE with a fake member's session when the frame carries the DAVE
marker, decode Opus, and keep the PCM with its arrival time. Written from the
protocol description, independently of ``bot.voice``, so it is an oracle for the
bot rather than a mirror of it. Nothing here raises on bad input: drops are counted
by reason.

Every member in the DAVE group decrypts every frame with its own client (davey or
libdave), as each Discord client in the call would: ``heard[member]`` counts the
frames each one decrypted and ``lost[member]`` the others by cause. The PCM kept is
the first member's plaintext; a frame no member could decrypt is a drop.
"""

from __future__ import annotations

import struct
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import discord.opus
import numpy as np
import numpy.typing as npt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt
from nacl.exceptions import CryptoError

from tests.fakes.dave.clients import DaveClient

SILENCE = b"\xf8\xff\xfe"
#: DAVE frames end with this 2-byte magic marker.
DAVE_MAGIC = b"\xfa\xfa"


@dataclass(frozen=True)
class RtpPacket:
    sequence: int
    timestamp: int
    ssrc: int
    clear_length: int
    has_extension: bool
    padding: bool


def parse_rtp(datagram: bytes) -> RtpPacket | None:
    if len(datagram) < 12 + 4 or datagram[0] >> 6 != 2 or 200 <= datagram[1] <= 204:
        return None
    cc = datagram[0] & 0x0F
    has_ext = bool(datagram[0] & 0x10)
    clear = 12 + 4 * cc + (4 if has_ext else 0)
    if len(datagram) < clear + 4:
        return None
    seq, ts, ssrc = struct.unpack_from(">HII", datagram, 2)
    return RtpPacket(seq, ts, ssrc, clear, has_ext, bool(datagram[0] & 0x20))


def transport_decrypt(mode: str, key: bytes, datagram: bytes, clear_length: int) -> bytes | None:
    """Plaintext (extension body + payload + padding) or ``None`` if it does not open."""
    header, sealed, counter = datagram[:clear_length], datagram[clear_length:-4], datagram[-4:]
    try:
        if mode == "aead_xchacha20_poly1305_rtpsize":
            return bytes(crypto_aead_xchacha20poly1305_ietf_decrypt(
                sealed, header, counter + bytes(20), key))
        if mode == "aead_aes256_gcm_rtpsize":
            return AESGCM(key).decrypt(counter + bytes(8), sealed, header)
    except (CryptoError, InvalidTag, ValueError):
        return None
    return None


def opus_payload(packet: RtpPacket, datagram: bytes, plaintext: bytes) -> bytes:
    """Strip the encrypted extension body and RTP padding from the plaintext."""
    start = 0
    if packet.has_extension:
        words = struct.unpack_from(">H", datagram, packet.clear_length - 2)[0]
        start = 4 * words
    end = len(plaintext)
    if packet.padding and plaintext:
        end -= plaintext[-1]
    return plaintext[start:end]


@dataclass(frozen=True)
class CapturedFrame:
    """One decoded 20 ms frame of the bot's voice."""

    arrival: float
    sequence: int
    timestamp: int
    #: 48 kHz stereo int16, shape (960, 2).
    pcm: npt.NDArray[np.int16]
    dave: bool


class Listener(Protocol):
    """A member's voice client in the bot's call (``VoiceMember``)."""

    user_id: int
    client: DaveClient | None


@dataclass
class CapturedAudio:
    """Everything the bot sent, decoded, in arrival order."""

    frames: list[CapturedFrame] = field(default_factory=list)
    drops: Counter[str] = field(default_factory=Counter)
    silence_frames: int = 0
    #: DAVE-encrypted frames the bot sent (whoever could decrypt them).
    dave_sent: int = 0
    #: Member id -> DAVE frames of the bot that member's client decrypted.
    heard: Counter[int] = field(default_factory=Counter)
    #: Member id -> frames of the bot that member's client could not decrypt, by cause.
    lost: dict[int, Counter[str]] = field(default_factory=dict)

    def merge(self, other: CapturedAudio) -> None:
        self.frames.extend(other.frames)
        self.drops.update(other.drops)
        self.silence_frames += other.silence_frames
        self.dave_sent += other.dave_sent
        self.heard.update(other.heard)
        for member, causes in other.lost.items():
            self.lost.setdefault(member, Counter()).update(causes)

    def pcm(self) -> npt.NDArray[np.int16]:
        """All decoded audio, stereo int16 of shape (n, 2)."""
        if not self.frames:
            return np.zeros((0, 2), dtype=np.int16)
        return np.concatenate([f.pcm for f in self.frames])

    def mono(self) -> npt.NDArray[np.float64]:
        mono: npt.NDArray[np.float64] = self.pcm().astype(np.float64).mean(axis=1)
        return mono

    @property
    def arrivals(self) -> list[float]:
        return [f.arrival for f in self.frames]

    @property
    def dave_frames(self) -> int:
        return sum(f.dave for f in self.frames)


class OutgoingAudioRecorder:
    """Turns the bot's RTP datagrams into :class:`CapturedAudio` for one connection."""

    def __init__(self, bot_user_id: int,
                 listeners: Callable[[], Sequence[Listener]]) -> None:
        self.bot_user_id = bot_user_id
        self._listeners = listeners
        self.audio = CapturedAudio()
        self._decoder: discord.opus.Decoder | None = None
        self.mode = ""
        self.key = b""

    def set_transport(self, mode: str, key: bytes) -> None:
        self.mode, self.key = mode, key

    def feed(self, datagram: bytes) -> None:
        drops = self.audio.drops
        packet = parse_rtp(datagram)
        if packet is None:
            drops["not_rtp"] += 1
            return
        plaintext = transport_decrypt(self.mode, self.key, datagram, packet.clear_length)
        if plaintext is None:
            drops["transport_decrypt"] += 1
            return
        frame = opus_payload(packet, datagram, plaintext)
        if frame == SILENCE:
            self.audio.silence_frames += 1
            return
        is_dave = frame.endswith(DAVE_MAGIC)
        if is_dave:
            self.audio.dave_sent += 1
            plain = self._dave_decrypt(frame)
            if plain is None:
                return
            frame = plain
        if self._decoder is None:
            self._decoder = discord.opus.Decoder()  # type: ignore[no-untyped-call]
        try:
            pcm = self._decoder.decode(bytes(frame), fec=False)
        except discord.opus.OpusError:
            drops["opus"] += 1
            return
        samples = np.frombuffer(pcm, dtype=np.int16).reshape(-1, 2).copy()
        self.audio.frames.append(CapturedFrame(time.monotonic(), packet.sequence,
                                               packet.timestamp, samples, is_dave))

    def _dave_decrypt(self, frame: bytes) -> bytes | None:
        """Every listening member decrypts; the first plaintext, or None (a drop)."""
        audio = self.audio
        plain: bytes | None = None
        first_cause = "dave_no_session"
        for member in self._listeners():
            if member.client is None:
                continue
            outcome = member.client.decrypt(self.bot_user_id, frame)
            if outcome.frame is None:
                audio.lost.setdefault(member.user_id, Counter())[outcome.cause] += 1
                if first_cause == "dave_no_session":
                    first_cause = f"dave:{outcome.cause}"
                continue
            audio.heard[member.user_id] += 1
            if plain is None:
                plain = outcome.frame
        if plain is None:
            audio.drops[first_cause] += 1
        return plain
