"""PCM frame geometry and byte⇄sample conversions shared by the audio pipeline.

Discord speaks 48 kHz stereo signed 16-bit little-endian PCM in 20 ms frames
(960 samples per channel, 3840 bytes); Pinch is fed mono at 16 kHz or 48 kHz.
Samples travel between stages as numpy ``int16`` arrays: mono as 1-D, multi-channel
as 1-D *interleaved* (L R L R ...), the layout discord.py and LiveKit use on the wire,
so a conversion from bytes is a zero-copy view.
"""

from __future__ import annotations

import sys
from typing import Final

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]

SAMPLE_RATE: Final = 48_000
"""Discord's (and LiveKit's native) sample rate, Hz."""
CHANNELS: Final = 2
"""Discord's channel count."""
SAMPLE_WIDTH: Final = 2
"""Bytes per sample (s16le)."""
FRAME_MS: Final = 20
"""Discord's frame duration."""
FRAME_SAMPLES: Final = SAMPLE_RATE * FRAME_MS // 1000
"""Samples per channel in one Discord frame (960)."""
FRAME_BYTES: Final = FRAME_SAMPLES * CHANNELS * SAMPLE_WIDTH
"""Bytes in one Discord frame (3840)."""
SILENCE_FRAME: Final = bytes(FRAME_BYTES)
"""One Discord frame of digital silence."""

_NATIVE_LE = sys.byteorder == "little"


def samples_per_channel(duration_ms: float, sample_rate: int) -> int:
    """Samples per channel in ``duration_ms`` at ``sample_rate`` (rounded)."""
    return round(duration_ms * sample_rate / 1000)


def duration_ms(num_samples: int, sample_rate: int, channels: int = 1) -> float:
    """Duration of ``num_samples`` interleaved samples (all channels counted)."""
    return num_samples / channels * 1000 / sample_rate


def pcm_to_samples(pcm: bytes | bytearray | memoryview) -> Int16Array:
    """View s16le bytes as an interleaved ``int16`` array (read-only, no copy).

    Raises ``ValueError`` when the length is not a whole number of samples.
    """
    if len(pcm) % SAMPLE_WIDTH:
        raise ValueError(f"PCM length {len(pcm)} is not a multiple of {SAMPLE_WIDTH}")
    samples = np.frombuffer(pcm, dtype="<i2")
    # On a little-endian host this is already native int16; elsewhere swap once.
    return samples if _NATIVE_LE else samples.astype(np.int16)


def samples_to_pcm(samples: npt.NDArray[np.integer]) -> bytes:
    """Serialise interleaved samples as s16le bytes (values must fit int16)."""
    arr = np.asarray(samples)
    if arr.dtype != np.int16:
        arr = arr.astype(np.int16)
    if not _NATIVE_LE:
        arr = arr.astype("<i2")
    return arr.tobytes()
