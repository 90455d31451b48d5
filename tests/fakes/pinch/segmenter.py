"""Energy-based speech segmentation: int16 mono samples in, segment events out.

Pure and clock-free: time is counted in samples, the caller maps it to wall
time. Audio is judged in 10 ms frames by RMS; a segment starts at the first
voiced frame, emits an :class:`Interim` every ``interim_every_s`` of its length,
and ends (:class:`SpeechEnded`) once ``silence_to_end_s`` of unvoiced frames
follow, or when it reaches ``max_segment_s``. Bursts shorter than
``min_speech_s`` of voice are discarded as noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tests.fakes.pinch.config import AgentTuning

SAMPLE_RATE = 48_000
FRAME = SAMPLE_RATE // 100  # 10 ms


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    start: int  # sample position in the stream


@dataclass(frozen=True, slots=True)
class Interim:
    start: int
    count: int  # 1 for the first interim of the segment
    position: int


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    start: int
    end: int  # exclusive: just after the last voiced frame
    samples: npt.NDArray[np.int16]  # start..end


SegmentEvent = SpeechStarted | Interim | SpeechEnded


class EnergySegmenter:
    def __init__(self, tuning: AgentTuning | None = None) -> None:
        t = tuning or AgentTuning()
        self._threshold = t.threshold_rms
        self._silence_frames = max(1, round(t.silence_to_end_s * 100))
        self._min_voiced_frames = max(1, round(t.min_speech_s * 100))
        self._max_frames = max(1, round(t.max_segment_s * 100))
        self._interim_frames = max(1, round(t.interim_every_s * 100))
        self._pending = np.zeros(0, dtype=np.int16)  # less than one frame, carried over
        self._position = 0  # samples consumed into whole frames
        self._segment: list[npt.NDArray[np.int16]] = []
        self._start = 0
        self._last_voiced_end = 0
        self._voiced_frames = 0
        self._interims = 0

    @property
    def position(self) -> int:
        """Samples consumed so far (whole frames only)."""
        return self._position

    @property
    def in_speech(self) -> bool:
        return bool(self._segment)

    def segment_audio(self) -> npt.NDArray[np.int16]:
        """The current segment's samples so far (empty between segments)."""
        if not self._segment:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(self._segment)

    def feed(self, samples: npt.NDArray[np.int16]) -> list[SegmentEvent]:
        """Consume any number of samples; the events they complete, in order."""
        data = np.concatenate([self._pending, np.asarray(samples, dtype=np.int16)])
        whole = data.size - data.size % FRAME
        self._pending = data[whole:]
        frames = data[:whole].reshape(-1, FRAME)
        if not frames.size:
            return []
        energy = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
        voiced = energy >= self._threshold
        events: list[SegmentEvent] = []
        for frame, is_voiced in zip(frames, voiced, strict=True):
            events.extend(self._step(frame, bool(is_voiced)))
            self._position += FRAME
        return events

    def flush(self) -> list[SegmentEvent]:
        """End the current segment as if silence followed (the stream ended)."""
        return self._finish() if self._segment else []

    def _step(self, frame: npt.NDArray[np.int16], is_voiced: bool) -> list[SegmentEvent]:
        events: list[SegmentEvent] = []
        if not self._segment:
            if not is_voiced:
                return events
            self._start = self._position
            self._voiced_frames = 0
            self._interims = 0
            events.append(SpeechStarted(self._start))
        self._segment.append(frame)
        if is_voiced:
            self._voiced_frames += 1
            self._last_voiced_end = self._position + FRAME
        length = len(self._segment)
        silent_for = (self._position + FRAME - self._last_voiced_end) // FRAME
        if silent_for >= self._silence_frames or length >= self._max_frames:
            events.extend(self._finish())
        elif is_voiced and length % self._interim_frames == 0:
            self._interims += 1
            events.append(Interim(self._start, self._interims, self._position + FRAME))
        return events

    def _finish(self) -> list[SegmentEvent]:
        voiced_len = self._last_voiced_end - self._start
        audio = np.concatenate(self._segment)[:voiced_len]
        self._segment = []
        if self._voiced_frames < self._min_voiced_frames:
            return []
        return [SpeechEnded(self._start, self._last_voiced_end, audio)]
