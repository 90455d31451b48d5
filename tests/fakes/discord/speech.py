"""Fake members speaking: PCM/WAV in, paced RTP to the bot out.

Like a Discord client: 48 kHz stereo Opus in 20 ms frames (libopus through
``discord.opus.Encoder``), each DAVE-encrypted with the member's own client at the
moment it is sent (so a frame carries whichever epoch's key the client sends with
then), transport-encrypted with the bot's key and mode
(:class:`tests.support.voice_packets.RtpSender`), paced on an absolute 20 ms clock,
then five Opus silence frames (DTX) to end the burst. The stream itself (which
connection, which key, how each frame is counted) is ``member_stream``.
"""

from __future__ import annotations

import asyncio
import secrets
import wave
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import discord.opus
import numpy as np
import numpy.typing as npt

from tests.support.voice_packets import RtpSender

SAMPLE_RATE = 48_000
FRAME_SAMPLES = 960
FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
DTX_SILENCE_FRAMES = 5

T = TypeVar("T")


def load_pcm(source: str | Path | npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """A 48 kHz stereo int16 array of shape (n, 2) from a WAV path or samples.

    Mono input (1-D or one channel) is duplicated to both channels.
    """
    if isinstance(source, (str, Path)):
        with wave.open(str(source), "rb") as wav:
            if wav.getframerate() != SAMPLE_RATE or wav.getsampwidth() != 2:
                raise ValueError("fake members speak 48 kHz 16-bit WAV files")
            channels = wav.getnchannels()
            data = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
        pcm = data.reshape(-1, channels)
    else:
        pcm = np.asarray(source, dtype=np.int16)
        if pcm.ndim == 1:
            pcm = pcm.reshape(-1, 1)
    if pcm.shape[1] == 1:
        pcm = np.repeat(pcm, 2, axis=1)
    if pcm.shape[1] != 2:
        raise ValueError("expected mono or stereo audio")
    return np.ascontiguousarray(pcm)


def opus_frames(pcm: npt.NDArray[np.int16]) -> list[bytes]:
    """Opus packets for each 20 ms of ``pcm`` (the last frame zero-padded)."""
    pad = -len(pcm) % FRAME_SAMPLES
    if pad:
        pcm = np.concatenate([pcm, np.zeros((pad, 2), dtype=np.int16)])
    encoder = discord.opus.Encoder()
    return [encoder.encode(pcm[i:i + FRAME_SAMPLES].tobytes(), FRAME_SAMPLES)
            for i in range(0, len(pcm), FRAME_SAMPLES)]


@dataclass
class SpeechReport:
    """What one ``speak`` sent."""

    frames: int
    dave_encrypted: int
    silence_frames: int
    ssrc: int
    #: DAVE frames by the epoch whose key encrypted them.
    epochs: Counter[int] = field(default_factory=Counter)
    #: Frames the protocol lets the bot decrypt: encrypted under an epoch its session
    #: held (had acknowledged) when the frame was sent.
    decryptable: int = 0
    #: Frames it does not: sent before the bot was welcomed into the member's epoch
    #: (or, from a davey member, who switches keys at the commit rather than at op 22,
    #: before the bot acknowledged it), or sent in clear for want of a key.
    undecryptable: int = 0
    #: Datagrams (voiced or silence) sent while the bot was not connected: they went
    #: nowhere.
    unrouted: int = 0


def new_sender(ssrc: int, mode: str, key: bytes) -> RtpSender:
    return RtpSender(ssrc, mode, key, sequence=secrets.randbelow(1 << 16),
                     timestamp=secrets.randbelow(1 << 32), nonce=secrets.randbelow(1 << 16))


async def pace(datagrams: Iterable[T], send: Callable[[T], None]) -> None:
    """Send one datagram per 20 ms on an absolute clock (no drift); a lazy iterable
    builds each datagram just before it is sent."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i, datagram in enumerate(datagrams):
        send(datagram)
        delay = start + (i + 1) * FRAME_SECONDS - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)

