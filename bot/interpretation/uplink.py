"""Turns Discord's 20 ms 48 kHz stereo PCM into the frames a link publishes.

Downmix to mono, resample to the link's publish rate (soxr, band-limited) and cut
into ``capture_ms`` frames. One converter per link; it keeps resampler state
across frames of one utterance and is flushed at the end of speech.
"""

from __future__ import annotations

from bot.audio.downmix import stereo_to_mono
from bot.audio.frames import SAMPLE_RATE as DISCORD_RATE
from bot.audio.frames import pcm_to_samples, samples_to_pcm
from bot.audio.resample import StreamResampler


class UplinkConverter:
    def __init__(self, publish_rate: int, capture_ms: int) -> None:
        self._resampler = StreamResampler(DISCORD_RATE, publish_rate, channels=1,
                                          frame_ms=capture_ms)

    def push(self, pcm_48k_stereo: bytes) -> list[bytes]:
        mono = stereo_to_mono(pcm_to_samples(pcm_48k_stereo))
        return [samples_to_pcm(frame) for frame in self._resampler.push(mono)]

    def flush(self) -> list[bytes]:
        return [samples_to_pcm(frame) for frame in self._resampler.flush()]

