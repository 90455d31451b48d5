"""One speaker's uplink DSP: Discord frames in, Pinch-ready speech frames out.

Composes the building blocks in the order the interpreter link needs them:
48 kHz stereo s16le → ``stereo_to_mono`` → ``VoiceGate`` (silence beyond the
hangover is dropped, so Pinch does not bill empty air) → ``StreamResampler`` (to
16 kHz or 48 kHz mono, fixed ``frame_ms`` frames for ``capture_frame``). When the
gate closes the resampler is flushed, so the end of the utterance is not left inside
the filter. A short pre-roll of the audio just before the gate opened is forwarded
first, so soft word onsets below the threshold are not clipped.

Pure and synchronous; one instance per speaker (or one for the channel mix, fed via
``push_mono`` with the mixed mono signal). Not thread-safe.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from bot.audio.downmix import stereo_to_mono
from bot.audio.frames import SAMPLE_RATE, Int16Array, duration_ms, pcm_to_samples
from bot.audio.levels import VoiceGate
from bot.audio.resample import Quality, StreamResampler


class SpeechFeed:
    """Gate, downmix and resample one stream of 48 kHz audio for Pinch.

    ``push``/``push_mono`` return the frames to publish now (possibly none);
    ``end`` flushes an utterance in progress (speaker left, link closing).
    """

    def __init__(
        self,
        *,
        out_rate: int = 16_000,
        frame_ms: float = 20,
        threshold_dbfs: float = -45.0,
        hangover_ms: float = 300.0,
        preroll_ms: float = 40.0,
        quality: Quality = "HQ",
    ) -> None:
        self._gate = VoiceGate(
            threshold_dbfs=threshold_dbfs, hangover_ms=hangover_ms, sample_rate=SAMPLE_RATE
        )
        self._resampler = StreamResampler(
            SAMPLE_RATE, out_rate, channels=1, frame_ms=frame_ms, quality=quality
        )
        self._preroll_ms = preroll_ms
        self._preroll: deque[Int16Array] = deque()
        self._preroll_held_ms = 0.0
        self.forwarded_ms = 0.0
        """Input audio let through (what Pinch is billed for, at the input clock)."""
        self.gated_ms = 0.0
        """Input audio held back as silence (pre-roll that was later sent excluded)."""

    @property
    def speaking(self) -> bool:
        """Whether the last frame was forwarded (an utterance is in progress)."""
        return self._gate.is_open

    @property
    def out_rate(self) -> int:
        return self._resampler.out_rate

    def push(self, pcm: bytes | bytearray | memoryview) -> list[Int16Array]:
        """Feed 48 kHz stereo s16le (e.g. one ``PcmFrame.pcm``).

        Raises ``ValueError`` if ``pcm`` is not whole stereo samples.
        """
        return self.push_mono(stereo_to_mono(pcm_to_samples(pcm)))

    def push_mono(self, mono: Int16Array) -> list[Int16Array]:
        """Feed 48 kHz mono samples."""
        was_open = self._gate.is_open
        if self._gate.update(mono):
            frames: list[Int16Array] = []
            if not was_open and self._preroll:
                frames += self._resampler.push(np.concatenate(self._preroll))
                self.forwarded_ms += self._preroll_held_ms
                self.gated_ms -= self._preroll_held_ms
                self._clear_preroll()
            self.forwarded_ms += self._ms(mono)
            return frames + self._resampler.push(mono)
        self.gated_ms += self._ms(mono)
        self._hold(mono)
        return self._resampler.flush() if was_open else []

    def end(self) -> list[Int16Array]:
        """Close any utterance in progress and return its tail frames."""
        self._gate.reset()
        self._clear_preroll()
        return self._resampler.flush()

    def _hold(self, mono: Int16Array) -> None:
        if self._preroll_ms <= 0:
            return
        self._preroll.append(mono.copy())
        self._preroll_held_ms += self._ms(mono)
        while self._preroll and self._preroll_held_ms - self._ms(self._preroll[0]) >= (
            self._preroll_ms
        ):
            self._preroll_held_ms -= self._ms(self._preroll.popleft())

    def _clear_preroll(self) -> None:
        self._preroll.clear()
        self._preroll_held_ms = 0.0

    @staticmethod
    def _ms(mono: Int16Array) -> float:
        return duration_ms(int(mono.size), SAMPLE_RATE)
