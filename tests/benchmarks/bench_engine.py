"""What the engine adds: latency of both legs and CPU per active speaker (prints figures).

    .venv/bin/python -m tests.benchmarks.bench_engine [--seconds 10] [--speakers 1,4,8]

Real parts: livekit-server on loopback and the Pinch simulator. For the CPU figures
the simulator runs in its own process (``python -m tests.fakes.pinch``) so that only
the bot's side is counted: router, uplink conversion, LiveKit publishing, receiving
the translated audio and mixing it for playback, including LiveKit's native threads
(``getrusage`` covers every thread of this process). The receive path (UDP → PCM)
is measured separately by ``bench_receive_path``; add its figure for the whole bot.

Legs, bot-added only (network and Pinch excluded):
- Discord → LiveKit: a frame handed over by the receive layer → accepted by
  LiveKit's audio source (``LinkStats.uplink_latency``).
- LiveKit → Discord: the first translated frame of a segment delivered by LiveKit →
  the first audible 20 ms frame ``PlaybackMixer.read()`` hands to discord.py, read
  on a 20 ms clock by a thread as discord.py's player does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.interpretation.latency import LatencyWindow
from bot.interpretation.link import InterpreterLink, LinkConfig
from bot.interpretation.router import RouterConfig, SpeakerRouter
from bot.pinch import PinchClient, PinchSession
from bot.secrets import Secret
from bot.voice.playback import PlaybackMixer
from tests.fakes.pinch import PinchSimulator
from tests.support.audio_runs import stereo_frame
from tests.support.livekit_server import REPO_ROOT, LiveKitServer, find_binary
from tests.support.ports import free_tcp_port
from tests.support.signals import tone

API_TOKEN = "bench-pinch-token-0123456789"
LOUD_RMS = 1000.0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_by_thread() -> dict[str, float]:
    """CPU seconds per thread name (Linux /proc), to show where the time goes."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = re.sub(r"[-_:]?\d+$", "", name)  # group worker-1, worker-2, ...
        totals[name] = totals.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return totals


def _loud(pcm: bytes) -> bool:
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    return bool(x.size) and float(np.sqrt(np.mean(x * x))) > LOUD_RMS


class PlayerClock:
    """Reads the mixer every 20 ms on a thread, as discord.py's AudioPlayer does."""

    def __init__(self, mixer: PlaybackMixer, on_audible: Callable[[float], None]) -> None:
        self._mixer = mixer
        self._on_audible = on_audible
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-player", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)

    def _run(self) -> None:
        next_at = time.perf_counter()
        while not self._stop.is_set():
            frame = self._mixer.read()
            if _loud(frame):
                self._on_audible(time.monotonic())
            next_at += 0.02
            time.sleep(max(0.0, next_at - time.perf_counter()))


class Speakers:
    """K members talking: 1.2 s of tone, 0.8 s pause, in a loop, at real-time pace."""

    def __init__(self, count: int) -> None:
        self.frames_pushed = 0
        self._speech = [
            [stereo_frame(chunk) for chunk in np.split(tone(250.0 + 60 * k, 1.2, amplitude=0.3),
                                                        60)]
            for k in range(count)
        ]

    async def run(self, router: SpeakerRouter, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        silence = bytes(3840)
        tick = 0
        while loop.time() - start < seconds:
            position = tick % 100  # 2 s cycle of 20 ms ticks
            for member, frames in enumerate(self._speech, start=1):
                pcm = frames[position] if position < 60 else silence
                router.on_frame(member, pcm)
                self.frames_pushed += position < 60
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * 0.02 - loop.time()))


async def run_engine(base_url: str, speakers: int, seconds: float,
                     config: LinkConfig | None = None) -> dict[str, float]:
    mixer = PlaybackMixer()
    arrivals: list[float] = []
    outputs: list[float] = []
    pending_arrival: list[float | None] = [None]

    def audible(at: float) -> None:
        if pending_arrival[0] is not None:
            outputs.append(at - pending_arrival[0])
            pending_arrival[0] = None

    clock = PlayerClock(mixer, audible)
    async with PinchClient(base_url, Secret(API_TOKEN)) as client:
        links: list[InterpreterLink] = []
        last_loud = [0.0]

        def make_link(member: int) -> InterpreterLink:
            playback = mixer.open_input(f"member-{member}")

            def on_audio(pcm: bytes) -> None:
                now = time.monotonic()
                if _loud(pcm):
                    if now - last_loud[0] > 0.3 and pending_arrival[0] is None:
                        pending_arrival[0] = now  # a new translated segment begins
                        arrivals.append(now)
                    last_loud[0] = now
                playback.push(pcm)

            async def open_session() -> PinchSession:
                return await client.create_session("en-US", "es-ES", "female")

            link = InterpreterLink(f"member-{member}", open_session,
                                   on_transcript=lambda event, utterance: None, on_audio=on_audio,
                                   config=config or LinkConfig())
            links.append(link)
            return link

        router = SpeakerRouter(RouterConfig(max_links=speakers), make_link,
                               is_excluded=lambda member: False)
        await router.start()
        clock.start()
        feeder = Speakers(speakers)
        try:
            await feeder.run(router, 2.0)  # warm-up: sessions open, rooms joined
            for link in links:  # frames queued while the room opened are not steady state
                link.stats.uplink_latency = LatencyWindow()
            cpu0, wall0, frames0 = _cpu_seconds(), time.perf_counter(), feeder.frames_pushed
            threads0 = _cpu_by_thread()
            await feeder.run(router, seconds)
            cpu = _cpu_seconds() - cpu0
            threads1 = _cpu_by_thread()
            wall = time.perf_counter() - wall0
            frames = feeder.frames_pushed - frames0
        finally:
            clock.stop()
            await router.aclose()
            mixer.close()
    uplink = [link.stats.uplink_latency for link in links]
    up50 = statistics.median([w.percentile_ms(50) or 0.0 for w in uplink])
    up95 = max(w.percentile_ms(95) or 0.0 for w in uplink)
    down = sorted(x * 1000 for x in outputs)
    by_thread = sorted(((threads1[k] - threads0.get(k, 0.0), k) for k in threads1), reverse=True)
    top = ", ".join(f"{name} {sec / cpu * 100:.0f} %" for sec, name in by_thread[:5] if sec > 0)
    print(f"   where the CPU went ({speakers} speaker(s)): {top}")
    return {
        "cpu_us_per_speaker_frame": cpu / max(1, frames) * 1e6,
        "cpu_us_per_speaker_tick": cpu / (wall / 0.02) / speakers * 1e6,
        "python_share": (threads1.get("python", 0.0) - threads0.get("python", 0.0)) / cpu,
        "cpu_share_of_one_core": cpu / wall,
        "uplink_p50_ms": up50,
        "uplink_p95_ms": up95,
        "downlink_p50_ms": float(np.percentile(down, 50)) if down else float("nan"),
        "downlink_p95_ms": float(np.percentile(down, 95)) if down else float("nan"),
        "segments": float(len(down)),
    }


async def simulator_subprocess(server: LiveKitServer) -> tuple[str, asyncio.subprocess.Process]:
    port = free_tcp_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.pinch", "--livekit-url", server.url,
        "--api-key", server.api_key, "--api-secret", server.api_secret,
        "--api-token", API_TOKEN, "--port", str(port),
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    await asyncio.wait_for(proc.stdout.readline(), 20)
    return f"http://127.0.0.1:{port}", proc


async def main(seconds: float, counts: list[int], capture_ms: int) -> None:
    config = LinkConfig(capture_ms=capture_ms)
    server = LiveKitServer(binary=find_binary())
    server.start()
    try:
        print("== latency (in-process simulator, 1 speaker)")
        sim = PinchSimulator(livekit_url=server.url, livekit_api_key=server.api_key,
                             livekit_api_secret=server.api_secret, api_token=API_TOKEN)
        await sim.start()
        try:
            figures = await run_engine(sim.base_url, 1, seconds, config)
        finally:
            await sim.aclose()
        print(f"Discord→LiveKit (bot-added): p50 {figures['uplink_p50_ms']:.1f} ms, "
              f"p95 {figures['uplink_p95_ms']:.1f} ms")
        print(f"LiveKit→Discord (bot-added): p50 {figures['downlink_p50_ms']:.1f} ms, "
              f"p95 {figures['downlink_p95_ms']:.1f} ms over {figures['segments']:.0f} segments")

        print("== CPU (simulator in its own process)")
        base_url, proc = await simulator_subprocess(server)
        try:
            for count in counts:
                figures = await run_engine(base_url, count, seconds, config)
                print(f"{count} speaker(s): {figures['cpu_us_per_speaker_tick']:.0f} µs CPU per "
                      f"speaker per 20 ms ({figures['cpu_us_per_speaker_frame']:.0f} µs per "
                      f"20 ms of speech; 40 % of each cycle is pause), process at "
                      f"{figures['cpu_share_of_one_core'] * 100:.0f} % of one core, "
                      f"{figures['python_share'] * 100:.0f} % of it on the Python thread")
        finally:
            proc.terminate()
            await proc.wait()
    finally:
        server.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--speakers", default="1,4,8")
    parser.add_argument("--capture-ms", type=int, default=LinkConfig().capture_ms)
    args = parser.parse_args()
    print(f"capture_ms={args.capture_ms}")
    asyncio.run(main(args.seconds, [int(n) for n in args.speakers.split(",")], args.capture_ms))
