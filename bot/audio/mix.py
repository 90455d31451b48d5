"""Sample-aligned mixing of several sources into one, with optional ducking.

Used twice: the ``mixed`` routing mode sums members' frames into one stream for a
single Pinch session, and playback sums every link's translation into the one stream
discord.py encodes (one Opus encode per guild instead of one per link).

``mix`` adds frames of equal length sample by sample in int32 and clips to int16, so
loud overlaps saturate instead of wrapping around into noise bursts. ``Ducker`` mixes
the same way but, while two or more sources are active at once, keeps one at full
level and lowers the others by ``duck_db`` with a short linear gain ramp (no clicks),
so overlapping translations stay intelligible. Which one keeps the floor is a policy:
``"first"`` (default: the source already speaking is not drowned by a newcomer) or
``"latest"`` (the newcomer comes to the front). Activity is a ``VoiceGate`` per
source, so a source stays "active" across short pauses.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Generic, Literal, TypeVar

import numpy as np
import numpy.typing as npt

from bot.audio.frames import Int16Array, samples_per_channel
from bot.audio.levels import VoiceGate

_INT16_MIN = -32768
_INT16_MAX = 32767

FloorPolicy = Literal["first", "latest"]
K = TypeVar("K", bound=Hashable)


def mix(frames: Sequence[Int16Array]) -> Int16Array:
    """Sum equal-length ``int16`` frames with int32 accumulation, clipped to int16.

    Raises ``ValueError`` for an empty sequence or frames of different lengths.
    """
    if not frames:
        raise ValueError("nothing to mix")
    first = frames[0]
    if len(frames) == 1:
        return first.copy()
    acc = first.astype(np.int32)
    for frame in frames[1:]:
        if frame.shape != first.shape:
            raise ValueError(f"frames are not aligned: {frame.shape} vs {first.shape}")
        acc += frame
    np.clip(acc, _INT16_MIN, _INT16_MAX, out=acc)
    return acc.astype(np.int16)


@dataclass
class _Source:
    gate: VoiceGate
    gain: float = 1.0
    active_since: int | None = None  # activation order; None while inactive


class Ducker(Generic[K]):
    """Mixer that ducks all but one source while several are active.

    ``mix(frames)`` takes one frame per source, keyed by any hashable source id; a
    source missing from a call is forgotten (its state restarts when it returns).
    Frames are interleaved ``int16`` of equal length. Not thread-safe.
    """

    def __init__(
        self,
        *,
        duck_db: float = -12.0,
        ramp_ms: float = 20.0,
        keep: FloorPolicy = "first",
        threshold_dbfs: float = -45.0,
        hangover_ms: float = 300.0,
        sample_rate: int = 48_000,
        channels: int = 2,
    ) -> None:
        if duck_db > 0:
            raise ValueError("duck_db attenuates: it must be <= 0")
        if ramp_ms <= 0:
            raise ValueError("ramp_ms must be positive")
        self.duck_db = duck_db
        self.keep: FloorPolicy = keep
        self._duck_gain = float(10.0 ** (duck_db / 20.0))
        # Gain change per (per-channel) sample: a full duck takes ramp_ms.
        self._step = (1.0 - self._duck_gain) / max(1, samples_per_channel(ramp_ms, sample_rate))
        self._threshold_dbfs = threshold_dbfs
        self._hangover_ms = hangover_ms
        self._sample_rate = sample_rate
        self._channels = channels
        self._order = count()
        self._sources: dict[K, _Source] = {}

    @property
    def duck_gain(self) -> float:
        """Linear gain applied to ducked sources."""
        return self._duck_gain

    def gain_of(self, source: K) -> float:
        """Current gain of ``source`` (1.0 for an unknown source)."""
        state = self._sources.get(source)
        return state.gain if state is not None else 1.0

    def mix(self, frames: Mapping[K, Int16Array]) -> Int16Array:
        """Mix one frame per source, ducking as the activity of the sources requires."""
        if not frames:
            raise ValueError("nothing to mix")
        for gone in self._sources.keys() - frames.keys():
            del self._sources[gone]
        active: list[tuple[int, K]] = []
        for key, frame in frames.items():
            state = self._sources.get(key)
            if state is None:
                state = self._sources[key] = _Source(self._new_gate())
            if state.gate.update(frame):
                if state.active_since is None:
                    state.active_since = next(self._order)
                active.append((state.active_since, key))
            else:
                state.active_since = None
        leader = None
        if len(active) >= 2:
            leader = min(active)[1] if self.keep == "first" else max(active)[1]
        ducked = {key for _, key in active if key != leader} if leader is not None else set()

        values = list(frames.values())
        length = values[0].shape
        if any(f.shape != length for f in values):
            raise ValueError("frames are not aligned")
        if all(self._sources[k].gain == 1.0 for k in frames) and not ducked:
            return mix(values)  # nothing ducked or ramping: the integer fast path
        acc = np.zeros(values[0].size, dtype=np.float32)
        for key, frame in frames.items():
            target = self._duck_gain if key in ducked else 1.0
            acc += frame * self._gains(self._sources[key], target, frame.size)
        np.rint(acc, out=acc)
        np.clip(acc, _INT16_MIN, _INT16_MAX, out=acc)
        return acc.astype(np.int16)

    def _gains(self, state: _Source, target: float, size: int) -> float | npt.NDArray[np.float32]:
        start = state.gain
        if start == target:
            return start
        per_channel = size // self._channels
        direction = 1.0 if target > start else -1.0
        ramp = start + direction * self._step * np.arange(1, per_channel + 1, dtype=np.float32)
        ramp = np.minimum(ramp, target) if direction > 0 else np.maximum(ramp, target)
        state.gain = float(ramp[-1]) if per_channel else start
        if abs(state.gain - target) < 1e-6:
            state.gain = target
        return np.repeat(ramp, self._channels) if self._channels > 1 else ramp

    def _new_gate(self) -> VoiceGate:
        return VoiceGate(
            threshold_dbfs=self._threshold_dbfs,
            hangover_ms=self._hangover_ms,
            sample_rate=self._sample_rate,
            channels=self._channels,
        )
