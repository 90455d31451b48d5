"""Cost of the playback mixer (prints figures, asserts nothing).

    .venv/bin/python -m tests.benchmarks.bench_playback

Steady state: every input receives 20 ms as two 10 ms pushes (LiveKit's delivery)
per ``read()``; push and read are timed separately. Contention: producer threads
push while a reader calls ``read()``, both at real-time pace and flat out; the
read latencies include waits for the GIL as well as for the mixer's lock.
"""

from __future__ import annotations

import statistics
import threading
import time

import numpy as np

from bot.voice.playback import PlaybackMixer
from tests.support.signals import tone

ROUNDS = 3000


def _blocks(freq: float, n: int) -> list[bytes]:
    stereo = np.repeat(tone(freq, n * 0.01, amplitude=0.2), 2)
    return [stereo[i * 960 : (i + 1) * 960].tobytes() for i in range(n)]


def steady_state(n_inputs: int, *, duck_db: float | None = None) -> None:
    mixer = PlaybackMixer(duck_db=duck_db)
    inputs = [mixer.open_input(f"in{i}") for i in range(n_inputs)]
    blocks = [_blocks(300 + 100 * i, 100) for i in range(n_inputs)]
    push_s = read_s = 0.0
    cpu0 = time.process_time()
    for r in range(ROUNDS):
        t0 = time.perf_counter()
        for inp, bl in zip(inputs, blocks, strict=True):
            inp.push(bl[(2 * r) % 100])
            inp.push(bl[(2 * r + 1) % 100])
        t1 = time.perf_counter()
        mixer.read()
        t2 = time.perf_counter()
        push_s += t1 - t0
        read_s += t2 - t1
    cpu = (time.process_time() - cpu0) / ROUNDS * 1e6
    label = f"{n_inputs} input(s)" + (f", ducking {duck_db} dB" if duck_db is not None else "")
    print(
        f"  {label:<28} read() {read_s / ROUNDS * 1e6:6.1f} µs   "
        f"push 10 ms {push_s / ROUNDS / (2 * n_inputs) * 1e6:5.1f} µs   "
        f"cpu per 20 ms (all pushes + read) {cpu:6.1f} µs"
    )
    stats = mixer.stats()
    if stats.underruns or stats.overrun_dropped_ms:  # the figures would not be steady state
        print(f"  (!) not steady: {stats}")


def contention(n_producers: int, *, paced: bool, seconds: float) -> None:
    mixer = PlaybackMixer(trim_silence=False)
    inputs = [mixer.open_input(f"in{i}") for i in range(n_producers)]
    blocks = _blocks(440, 100)
    stop = threading.Event()

    def produce(i: int) -> None:
        k = 0
        next_t = time.perf_counter()
        while not stop.is_set():
            inputs[i].push(blocks[k % 100])
            k += 1
            if paced:
                next_t += 0.01
                time.sleep(max(0.0, next_t - time.perf_counter()))

    threads = [threading.Thread(target=produce, args=(i,), daemon=True) for i in range(n_producers)]
    for t in threads:
        t.start()
    latencies = []
    end = time.perf_counter() + seconds
    next_t = time.perf_counter()
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        mixer.read()
        latencies.append(time.perf_counter() - t0)
        if paced:
            next_t += 0.02
            time.sleep(max(0.0, next_t - time.perf_counter()))
    stop.set()
    for t in threads:
        t.join()
    us = sorted(x * 1e6 for x in latencies)
    p99 = us[int(len(us) * 0.99) - 1]
    mode = "paced 10 ms/20 ms" if paced else "flat out"
    print(
        f"  {n_producers} producer threads, {mode:<18} reads {len(us):6d}  "
        f"p50 {statistics.median(us):7.1f} µs  p99 {p99:8.1f} µs  max {us[-1]:8.1f} µs"
    )


def main() -> None:
    print("PlaybackMixer steady state (per 20 ms frame)")
    steady_state(1)
    steady_state(4)
    steady_state(4, duck_db=-12.0)
    print("PlaybackMixer.read() latency while producer threads push (includes GIL waits)")
    contention(0, paced=True, seconds=1.0)
    contention(4, paced=True, seconds=2.0)
    contention(4, paced=False, seconds=1.0)


if __name__ == "__main__":
    main()
