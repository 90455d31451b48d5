"""What members send in the benchmarks: speech-like audio, Opus-encoded as a Discord
client does, DAVE- and transport-encrypted, with the first packet of each phrase marked.

The signal is deterministic (seeded): phrases of 2–4 syllables, each syllable a voiced
sound (a fundamental of 95–230 Hz gliding, 14 harmonics shaped by two formants, a
little breath noise) under a fast-attack, slow-decay envelope; 40–110 ms gaps of
silence between syllables and 0.45–0.8 s pauses between phrases (by default; the
loop's wrap included: the benchmarks replay it). A Discord client encodes with the
VOIP application at ~64 kbps, in-band FEC on with a packet-loss expectation, 20 ms
stereo 48 kHz frames; in a pause it sends five Opus silence frames and then nothing
(DTX) until the next phrase, whose RTP timestamp jumps.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import davey
import discord.opus
import numpy as np
import numpy.typing as npt

from tests.support.voice_packets import SILENCE_FRAME, RtpSender, one_byte_extension

RATE = 48_000
FRAME = 960  # samples per channel in 20 ms
BITRATE_KBPS = 64
EXPECTED_LOSS = 0.10  # what a client tells its encoder to protect against with FEC
SILENCE_FRAMES_AFTER_SPEECH = 5
PHRASE_PAUSE_S = (0.45, 0.8)


@dataclass(frozen=True, slots=True)
class Utterances:
    """One member's speech: 20 ms stereo PCM frames, and which frames start a phrase.

    ``voiced[i]`` is False for frames inside a phrase pause (the client sends nothing
    there); gaps between syllables are silent audio but still sent.
    """

    pcm: list[bytes]
    voiced: list[bool]
    phrase_starts: frozenset[int]


def speech_like(seconds: float, seed: int,
                pause_s: tuple[float, float] = PHRASE_PAUSE_S) -> Utterances:
    """``seconds`` of speech-like mono audio as stereo frames, phrase starts on frame
    boundaries so the first packet of a phrase is its mark; phrases ``pause_s`` apart
    (from, to)."""
    rng = np.random.default_rng(seed)
    total = int(seconds * RATE) // FRAME * FRAME
    mono = np.zeros(total, dtype=np.float64)
    voiced = np.zeros(total // FRAME, dtype=bool)
    starts: set[int] = set()
    base_f0 = rng.uniform(95, 230)
    pos = FRAME * int(rng.integers(5, 25))  # members do not all start together
    # The benchmarks loop this audio: the last phrase ends a whole phrase pause before
    # the end, so the wrap is a pause like any other (a shorter one would merge two
    # phrases and leave a mark without its onset).
    limit = total - int(pause_s[0] * RATE)
    while pos + FRAME <= limit:
        phrase_begin = pos
        for _ in range(int(rng.integers(2, 5))):
            length = int(rng.uniform(0.12, 0.28) * RATE)
            end = min(limit, pos + length)
            if end - pos < FRAME:
                break
            mono[pos:end] = _syllable(end - pos, base_f0 * rng.uniform(0.85, 1.2), rng)
            pos = end + int(rng.uniform(0.04, 0.11) * RATE)
        if pos == phrase_begin:
            break  # not even a syllable fits: no phrase, so no mark
        starts.add(phrase_begin // FRAME)
        voiced[phrase_begin // FRAME : min(len(voiced), pos // FRAME + 1)] = True
        pos = (pos + int(rng.uniform(*pause_s) * RATE)) // FRAME * FRAME
    pcm16 = np.clip(mono * 32767, -32768, 32767).astype("<i2")
    stereo = np.repeat(pcm16, 2).reshape(-1, FRAME * 2)
    return Utterances([row.tobytes() for row in stereo], voiced.tolist(), frozenset(starts))


def _syllable(n: int, f0: float, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    t = np.arange(n) / RATE
    glide = f0 * (1 + rng.uniform(-0.12, 0.12) * t / max(t[-1], 1e-3))
    phase = 2 * np.pi * np.cumsum(glide) / RATE
    formants = (rng.uniform(300, 900), rng.uniform(900, 2500))
    wave = np.zeros(n)
    for k in range(1, 15):
        fk = k * f0
        gain = sum(1 / (1 + ((fk - f) / 120) ** 2) for f in formants) + 0.05
        wave += gain / k * np.sin(k * phase)
    wave += rng.normal(0, 0.02, n)
    attack = np.minimum(1.0, t / 0.008)
    decay = np.exp(-3.0 * t / max(t[-1], 1e-3))
    envelope = attack * decay
    wave *= envelope
    peak = float(np.max(np.abs(wave))) or 1.0
    return wave / peak * rng.uniform(0.25, 0.45)


def client_encoder() -> discord.opus.Encoder:
    """libopus set up as a Discord desktop client sends voice."""
    if not discord.opus.is_loaded():
        discord.opus._load_default()
    return discord.opus.Encoder(application="voip", bitrate=BITRATE_KBPS, fec=True,
                                expected_packet_loss=EXPECTED_LOSS, signal_type="voice")


@cache
def encoded_speech(seed: int, seconds: float = 12.0,
                   pause_s: tuple[float, float] = PHRASE_PAUSE_S,
                   ) -> tuple[Utterances, tuple[bytes, ...]]:
    """One member's speech and its Opus packets (silence frames in pauses), cached."""
    speech = speech_like(seconds, seed, pause_s)
    encoder = client_encoder()
    packets = tuple(encoder.encode(pcm, FRAME) if v else SILENCE_FRAME
                    for pcm, v in zip(speech.pcm, speech.voiced, strict=True))
    return speech, packets


@dataclass(slots=True)
class Member:
    """One speaking member: DAVE session, SSRC, RTP sender, speech schedule."""

    user_id: int
    ssrc: int
    dave: davey.DaveSession
    sender: RtpSender
    speech: Utterances
    opus: tuple[bytes, ...]
    tick: int = 0
    last_sent: int = -1
    silence_sent: int = 0

    def next_datagram(self) -> tuple[bytes | None, bool]:
        """The datagram this member's client sends in the next 20 ms (None in DTX), and
        whether it is a phrase's first packet (a mark)."""
        i = self.tick % len(self.opus)
        tick = self.tick
        self.tick += 1
        if self.speech.voiced[i]:
            self.silence_sent = 0
            payload = self.dave.encrypt_opus(self.opus[i])
        elif self.silence_sent < SILENCE_FRAMES_AFTER_SPEECH:
            self.silence_sent += 1
            payload = SILENCE_FRAME  # DAVE leaves the Opus silence frame clear
        else:
            return None, False
        step = FRAME * (tick - self.last_sent) if self.last_sent >= 0 else FRAME
        self.last_sent = tick
        datagram = self.sender.packet(payload, timestamp_step=step, extension=_EXTENSION,
                                      padding=0)
        return datagram, i in self.speech.phrase_starts


_EXTENSION = one_byte_extension({1: b"\x90"})  # the audio level a client adds


def schedule(members: list[Member], ticks: int) -> list[list[tuple[int, bytes, bool]]]:
    """``ticks`` × 20 ms of every member's datagrams, built beforehand so that building
    them (Opus was encoded once; DAVE and transport encryption here) costs nothing in
    the measured run: per tick, ``(member index, datagram, is_mark)``."""
    out: list[list[tuple[int, bytes, bool]]] = []
    for _ in range(ticks):
        row = []
        for index, member in enumerate(members):
            datagram, mark = member.next_datagram()
            if datagram is not None:
                row.append((index, datagram, mark))
        out.append(row)
    return out


def streamed(members: list[Member]) -> Iterator[list[tuple[int, bytes, bool]]]:
    """The same, built tick by tick (for the soak, where a schedule would not fit)."""
    while True:
        yield schedule(members, 1)[0]


class RawOpusDecoder:
    """The floor: libopus's ``opus_decode`` straight through ctypes into one
    preallocated buffer, nothing returned (no bytes object, no error wrapper)."""

    def __init__(self) -> None:
        if not discord.opus.is_loaded():
            discord.opus._load_default()
        lib = ctypes.CDLL(discord.opus._lib._name)
        lib.opus_decoder_create.restype = ctypes.c_void_p
        lib.opus_decoder_create.argtypes = [ctypes.c_int, ctypes.c_int,
                                            ctypes.POINTER(ctypes.c_int)]
        lib.opus_decode.restype = ctypes.c_int
        lib.opus_decode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32,
                                    ctypes.POINTER(ctypes.c_int16), ctypes.c_int, ctypes.c_int]
        lib.opus_decoder_destroy.argtypes = [ctypes.c_void_p]
        self._lib = lib
        error = ctypes.c_int()
        self._state = lib.opus_decoder_create(RATE, 2, ctypes.byref(error))
        if error.value:
            raise RuntimeError(f"opus_decoder_create failed ({error.value})")
        self._pcm = (ctypes.c_int16 * (5760 * 2))()
        self.decode = lambda frame: lib.opus_decode(self._state, frame, len(frame), self._pcm,
                                                    5760, 0)

    def close(self) -> None:
        self._lib.opus_decoder_destroy(self._state)


def libopus_version() -> str:
    if not discord.opus.is_loaded():
        discord.opus._load_default()
    lib = ctypes.CDLL(discord.opus._lib._name)
    lib.opus_get_version_string.restype = ctypes.c_char_p
    return str(lib.opus_get_version_string().decode())
