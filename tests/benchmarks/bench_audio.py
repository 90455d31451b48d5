"""Cost of the audio building blocks per 20 ms frame (prints figures, asserts nothing).

    .venv/bin/python -m tests.benchmarks.bench_audio

Measures: downmix + resample 48 kHz stereo → 16 kHz mono frames with our
``StreamResampler`` (soxr) against LiveKit's native ``rtc.AudioResampler``; mixing
2/4/8 inputs plain and with ducking; the voice gate; then the playback mixer figures
of ``bench_playback``. Wall time and CPU time are both shown: the machine is shared.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from livekit import rtc

from bot.audio.downmix import stereo_to_mono
from bot.audio.frames import FRAME_SAMPLES, pcm_to_samples
from bot.audio.levels import VoiceGate
from bot.audio.mix import Ducker, mix
from bot.audio.resample import StreamResampler
from bot.audio.ring import SampleRing
from bot.interpretation.uplink import UplinkConverter
from tests.benchmarks import bench_playback
from tests.support.signals import tone

FRAMES = 3000  # 60 s of audio per measurement


def measure(label: str, per_frame: Callable[[int], object], frames: int = FRAMES) -> None:
    """Print wall and CPU µs per call of ``per_frame(i)`` (best of three runs)."""
    per_frame(0)  # warm-up: lazy construction, caches
    best_wall = best_cpu = float("inf")
    for _ in range(3):
        w0, c0 = time.perf_counter(), time.process_time()
        for i in range(frames):
            per_frame(i)
        best_wall = min(best_wall, (time.perf_counter() - w0) / frames * 1e6)
        best_cpu = min(best_cpu, (time.process_time() - c0) / frames * 1e6)
    print(f"  {label:<64} {best_wall:8.1f} µs wall {best_cpu:8.1f} µs cpu")


def _stereo_frames(n: int) -> list[bytes]:
    mono = tone(440, n * 0.02, amplitude=0.3)
    stereo = np.repeat(mono, 2)
    return [stereo[i * 1920 : (i + 1) * 1920].tobytes() for i in range(n)]


def bench_resample() -> None:
    print("downmix + resample, one 20 ms 48 kHz stereo frame in → 16 kHz mono frames out")
    frames = _stereo_frames(50)

    def downmix_only(i: int) -> object:
        return stereo_to_mono(pcm_to_samples(frames[i % 50]))

    measure("downmix only (bytes → int16 → mono)", downmix_only)

    for quality in ("HQ", "VHQ", "MQ"):
        ours = StreamResampler(48_000, 16_000, frame_ms=20, quality=quality)  # type: ignore[arg-type]

        def soxr_step(i: int, r: StreamResampler = ours) -> object:
            return r.push(stereo_to_mono(pcm_to_samples(frames[i % 50])))

        measure(f"soxr StreamResampler {quality} (+ re-chunk to 20 ms)", soxr_step)

    converter = UplinkConverter(publish_rate=16_000, capture_ms=20)
    measure(
        "UplinkConverter.push (downmix + soxr HQ + re-chunk), the engine's uplink",
        lambda i: converter.push(frames[i % 50]),
    )

    for quality in (rtc.AudioResamplerQuality.HIGH, rtc.AudioResamplerQuality.MEDIUM):
        native = rtc.AudioResampler(48_000, 16_000, num_channels=1, quality=quality)

        def native_step(i: int, r: rtc.AudioResampler = native) -> object:
            mono = stereo_to_mono(pcm_to_samples(frames[i % 50]))
            return [np.frombuffer(f.data, np.int16) for f in r.push(bytearray(mono.tobytes()))]

        measure(f"rtc.AudioResampler {quality.value} (irregular frames, no re-chunk)", native_step)

    native_stereo = rtc.AudioResampler(48_000, 16_000, num_channels=2)

    def native_stereo_step(i: int) -> object:
        return native_stereo.push(bytearray(frames[i % 50]))

    measure("rtc.AudioResampler medium, stereo in (no downmix)", native_stereo_step)


def bench_mix() -> None:
    print("mixing one 20 ms 48 kHz stereo frame per input")
    rng = np.random.default_rng(1)
    for n in (2, 4, 8):
        inputs = [rng.integers(-8000, 8000, 1920).astype(np.int16) for _ in range(n)]
        measure(f"mix() {n} inputs", lambda _i, xs=inputs: mix(xs))
        ducker: Ducker[int] = Ducker(duck_db=-12)
        keyed = dict(enumerate(inputs))
        label = f"Ducker.mix() {n} inputs, all active (ducking)"
        measure(label, lambda _i, d=ducker, k=keyed: d.mix(k))


def bench_levels() -> None:
    print("levels")
    frame = tone(300, 0.02, amplitude=0.2)
    gate = VoiceGate()
    measure(
        f"VoiceGate.update() one 20 ms mono frame ({FRAME_SAMPLES} samples)",
        lambda _i: gate.update(frame),
    )


def bench_ring() -> None:
    print("jitter buffer work done under the playback lock")
    ring = SampleRing(192_000)  # 2 s of 48 kHz stereo
    block = np.zeros(960, np.int16)  # 10 ms stereo, LiveKit's delivery
    out = np.empty(1920, np.int16)  # 20 ms stereo, one read()

    def write_twice_read_once(_i: int) -> object:
        ring.write(block)
        ring.write(block)
        return ring.read_into(out)

    measure("SampleRing: 2 × write 10 ms + read_into 20 ms", write_twice_read_once)


def main() -> None:
    bench_resample()
    bench_mix()
    bench_levels()
    bench_ring()
    bench_playback.main()


if __name__ == "__main__":
    main()
