"""Pinch's WebSocket audio → the mixer's frames: float32 24 kHz mono in, 20 ms 48 kHz
stereo s16le out.

The server sends translated speech as binary frames of float32 little-endian mono
at 24 kHz, cut wherever it likes (PROTOCOLS.md §1b). The converter carries a partial
sample over to the next frame, treats what is not a finite number as silence and
clips to full scale (a float stream can overshoot; int16 must not wrap), resamples
with soxr (:class:`~bot.audio.resample.StreamResampler`, band-limited) and duplicates
the channel, so the mixer gets exactly what LiveKit's ``AudioStream`` hands it on the
other transport. ``flush`` ends an utterance: the filter's tail comes out, the last
frame zero-padded. Pure and single-owner (the socket's reader task).

Nothing marks a translation's end on the wire but the audio stopping, and the
resampler holds its last 20–40 ms until it is flushed. :class:`PlayoutHorizon` says
when to flush: just before the audio received so far, played from its arrival, would
run out — later, playback runs dry with the tail still held (an underrun that grows
its prebuffer); much sooner, a pause between two chunks of one translation would cut
it.
"""

from __future__ import annotations

import numpy as np

from bot.audio.frames import FRAME_MS, SAMPLE_RATE, Int16Array, samples_to_pcm
from bot.audio.resample import StreamResampler

FLOAT_BYTES = 4
_INT16_SCALE = 32767.0


class PlayoutHorizon:
    """When the translated audio received so far has played out, on the wall clock.

    Each chunk extends the horizon by its duration from ``max(horizon, arrival)``: a
    server sending ahead of real time builds a lead, one that falls behind restarts
    from the arrival. Pure: the caller passes the clock.
    """

    def __init__(self, margin_s: float, least_s: float) -> None:
        self.margin_s = margin_s
        self.least_s = least_s
        self._until = float("-inf")

    def received(self, seconds: float, now: float) -> float:
        """Record ``seconds`` of audio arriving at ``now``; return how long to wait
        without more audio before flushing: the lead left minus ``margin_s``, at
        least ``least_s``."""
        self._until = max(self._until, now) + seconds
        return max(self.least_s, self._until - now - self.margin_s)


class DownlinkConverter:
    def __init__(self, in_rate: int = 24_000) -> None:
        self._resampler = StreamResampler(in_rate, SAMPLE_RATE, channels=1, frame_ms=FRAME_MS)
        self._carry = b""
        self.pending = False
        """Audio went in since the last flush (the filter may hold some)."""

    def push(self, data: bytes) -> list[bytes]:
        """Frames completed by ``data`` (any length; a partial sample waits for the rest)."""
        if self._carry:
            data = self._carry + data
        whole = len(data) - len(data) % FLOAT_BYTES
        self._carry = data[whole:]
        if not whole:
            return []
        samples = np.frombuffer(data, dtype="<f4", count=whole // FLOAT_BYTES)
        scaled = np.nan_to_num(samples.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        np.clip(scaled, -1.0, 1.0, out=scaled)
        scaled *= _INT16_SCALE
        self.pending = True
        return [_stereo(frame) for frame in self._resampler.push(scaled)]

    def flush(self) -> list[bytes]:
        """The rest of the current utterance (a partial sample is dropped)."""
        self._carry = b""
        self.pending = False
        return [_stereo(frame) for frame in self._resampler.flush()]


def _stereo(mono: Int16Array) -> bytes:
    return samples_to_pcm(np.repeat(mono, 2))
