"""Streaming sample-rate conversion that emits fixed-size frames.

The interpreter link publishes 16 kHz mono by default (48 kHz selectable) while
Discord delivers 48 kHz. ``StreamResampler`` wraps ``soxr.ResampleStream`` (a
band-limited resampler: content above the new Nyquist is filtered out, not folded
back) and a ``FrameChunker``, because soxr's streaming output arrives in irregular
blocks while ``rtc.AudioSource.capture_frame`` wants one constant frame duration.
At equal rates it is a pure re-chunker (no filter, no delay). soxr runs in float32
on int16-scaled values and the result is rounded and saturated here: deterministic
(soxr's own int16 output dithers) and never wrapped on overshoot.

soxr was chosen over ``rtc.AudioResampler`` by measurement
(``python -m tests.benchmarks.bench_audio``): same libsoxr underneath, but the
native one pays an FFI round trip per push. Lifecycle per utterance: ``push`` frames
while the member speaks, ``flush`` at the end of speech (emits the filter's tail,
zero-padded to a whole frame), then the next ``push`` starts a fresh stream.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import soxr

from bot.audio.frames import Int16Array, samples_per_channel
from bot.audio.rechunk import FrameChunker

Quality = Literal["QQ", "LQ", "MQ", "HQ", "VHQ"]


class StreamResampler:
    """Resample an interleaved ``int16`` stream and cut it into ``frame_ms`` frames.

    Frames hold ``frame_ms × out_rate / 1000 × channels`` interleaved samples.
    Not thread-safe: one owner (one link's feeding task) drives it.
    """

    def __init__(
        self,
        in_rate: int,
        out_rate: int,
        *,
        channels: int = 1,
        frame_ms: float = 20,
        quality: Quality = "HQ",
    ) -> None:
        if in_rate <= 0 or out_rate <= 0 or channels <= 0:
            raise ValueError("rates and channel count must be positive")
        frame_samples = samples_per_channel(frame_ms, out_rate)
        if frame_samples * 1000 != frame_ms * out_rate:
            raise ValueError(f"{frame_ms} ms is not a whole number of samples at {out_rate} Hz")
        self.in_rate = in_rate
        self.out_rate = out_rate
        self.channels = channels
        self.frame_ms = frame_ms
        self._quality: Quality = quality
        self._chunker = FrameChunker(frame_samples * channels)
        self._stream: soxr.ResampleStream | None = None
        self._fed = False  # soxr holds state since the last flush/reset

    @property
    def passthrough(self) -> bool:
        """True when rates are equal: samples are only re-chunked."""
        return self.in_rate == self.out_rate

    @property
    def frame_len(self) -> int:
        """Interleaved samples per emitted frame."""
        return self._chunker.frame_len

    def push(self, samples: Int16Array | npt.NDArray[np.float32]) -> list[Int16Array]:
        """Feed interleaved samples at ``in_rate``; return the frames now complete.

        ``float32`` input is taken as already int16-scaled (±32768 full scale) and is
        not accepted at equal rates. Raises ``ValueError`` if the length is not a whole
        number of channel frames.
        """
        if samples.size % self.channels:
            raise ValueError(f"{samples.size} samples do not divide into {self.channels} channels")
        if self.passthrough:
            if samples.dtype != np.int16:
                raise ValueError("float input needs a rate change")
            return self._chunker.push(samples.astype(np.int16, copy=False))
        out = self._soxr().resample_chunk(self._shape(samples.astype(np.float32)))
        self._fed = True
        return self._chunker.push(_to_int16(out))

    def flush(self) -> list[Int16Array]:
        """End the current stream: emit everything still inside the filter and the
        chunker, the last frame zero-padded. The next ``push`` starts afresh."""
        frames: list[Int16Array] = []
        if self._fed and self._stream is not None:
            tail = self._stream.resample_chunk(self._shape(np.empty(0, np.float32)), last=True)
            frames = self._chunker.push(_to_int16(tail))
            # soxr refuses input after ``last=True``; clear() readies it for the next
            # utterance without rebuilding the filter.
            self._stream.clear()
            self._fed = False
        return frames + self._chunker.flush(pad=True)

    def reset(self) -> None:
        """Drop all buffered audio (filter state and partial frame) without emitting it."""
        if self._stream is not None:
            self._stream.clear()
        self._fed = False
        self._chunker.clear()

    def _soxr(self) -> soxr.ResampleStream:
        if self._stream is None:
            self._stream = soxr.ResampleStream(
                self.in_rate, self.out_rate, self.channels, dtype="float32", quality=self._quality
            )
        return self._stream

    def _shape(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        # soxr takes mono as 1-D and multi-channel as [frame, channel].
        return samples if self.channels == 1 else samples.reshape(-1, self.channels)


def _to_int16(resampled: npt.NDArray[np.float32]) -> Int16Array:
    # The filter's ringing can overshoot full scale slightly: saturate, do not wrap.
    flat = np.rint(resampled.reshape(-1))
    np.clip(flat, -32768, 32767, out=flat)
    return flat.astype(np.int16)
