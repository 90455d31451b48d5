"""What the engine adds, over each of Pinch's transports: latency of both legs and CPU
per active (and per idle) speaker. Prints figures, asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_engine [--seconds 10] [--speakers 1,4,8]
                                                      [--transports livekit,websocket]

Both transports run in the same invocation on the same audio (the same tones, the
same 1.2 s speech / 0.8 s pause cycle, the same simulator script).

Real parts: livekit-server on loopback and the Pinch simulator (which serves both
APIs). For the CPU figures the simulator runs in its own process (``python -m
tests.fakes.pinch``) so that only the bot's side is counted: router, uplink
conversion, sending (LiveKit publishing, or WebSocket frames), receiving the
translated audio (LiveKit's WebRTC decode and resample, or the socket's float32 →
soxr), and mixing it for playback, including native threads (``getrusage`` covers
every thread of this process). The receive path (UDP → PCM) is measured separately
by ``bench_receive_path``; add its figure for the whole bot. "Idle" is the same links
kept open while nobody speaks and nothing plays (the whole process's CPU divided by
the open links).

Figures are the steady state: the warm-up lets the sessions open and the speech queued
meanwhile drain first. Runs of both transports share one process, so LiveKit's native
threads, once started, keep ticking during the WebSocket runs (``--transports websocket``
alone gives the WebSocket figures without them).

Legs, bot-added only (network and Pinch excluded):
- Discord → Pinch: a frame handed over by the receive layer → accepted by the
  transport (LiveKit's audio source, or the socket's send) (``LinkStats.uplink_latency``).
- Pinch → Discord: the first translated frame of a segment delivered by the
  transport → the first audible 20 ms frame ``PlaybackMixer.read()`` hands to
  discord.py, read on a 20 ms clock by a thread as discord.py's player does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np

from bot.interpretation.latency import LatencyWindow
from bot.interpretation.link import InterpreterLink, LinkConfig
from bot.interpretation.livekit_transport import LiveKitTransport
from bot.interpretation.router import RouterConfig, SpeakerRouter
from bot.interpretation.transport import Transport
from bot.interpretation.websocket_transport import WebSocketTransport
from bot.pinch import PinchClient
from bot.pinch.options import SessionOptions
from bot.pinch.realtime import PinchRealtimeClient
from bot.process_exit import end_process
from bot.secrets import Secret
from bot.voice.playback import PlaybackMixer
from tests.benchmarks.load import cpu_by_thread, cpu_seconds
from tests.fakes.pinch import PinchSimulator
from tests.support.audio_runs import stereo_frame
from tests.support.livekit_server import REPO_ROOT, LiveKitServer, find_binary
from tests.support.ports import free_tcp_port
from tests.support.signals import tone

API_TOKEN = "bench-pinch-token-0123456789"
LOUD_RMS = 1000.0
TRANSPORTS = ("livekit", "websocket")
IDLE_SECONDS = 4.0


@contextlib.asynccontextmanager
async def make_transport(kind: str, base_url: str) -> AsyncIterator[Transport[Any]]:
    if kind == "livekit":
        async with PinchClient(base_url, Secret(API_TOKEN)) as client:
            yield LiveKitTransport(client)
        return
    transport = WebSocketTransport(PinchRealtimeClient(base_url, Secret(API_TOKEN)))
    try:
        yield transport
    finally:
        await transport.aclose()


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

    async def run(self, router: SpeakerRouter, seconds: float, *, speak: bool = True) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        silence = bytes(3840)
        tick = 0
        while loop.time() - start < seconds:
            position = tick % 100  # 2 s cycle of 20 ms ticks
            for member, frames in enumerate(self._speech, start=1):
                pcm = frames[position] if speak and position < 60 else silence
                router.on_frame(member, pcm)
                self.frames_pushed += position < 60
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * 0.02 - loop.time()))


async def run_engine(kind: str, base_url: str, speakers: int, seconds: float,
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
    async with make_transport(kind, base_url) as transport:
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

            link = InterpreterLink(f"member-{member}", transport,
                                   SessionOptions("en-US", "es-ES", "female"),
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
            # Speech queued while a session opened drains only at real-time pace, in
            # pauses: let it go before measuring the steady state.
            await feeder.run(router, 2.0, speak=False)
            for link in links:  # frames queued while the room opened are not steady state
                link.stats.uplink_latency = LatencyWindow()
            cpu0, wall0, frames0 = cpu_seconds(), time.perf_counter(), feeder.frames_pushed
            threads0 = cpu_by_thread()
            await feeder.run(router, seconds)
            cpu = cpu_seconds() - cpu0
            threads1 = cpu_by_thread()
            wall = time.perf_counter() - wall0
            frames = feeder.frames_pushed - frames0
            await feeder.run(router, 3.0, speak=False)  # the last translations finish
            # Idle: the links stay open, nobody speaks, and the player is stopped as the
            # run pauses discord.py's when nothing plays: what is left is the links' own.
            clock.stop()
            idle_cpu0, idle_wall0 = cpu_seconds(), time.perf_counter()
            await asyncio.sleep(IDLE_SECONDS)
            idle_cpu = cpu_seconds() - idle_cpu0
            idle_wall = time.perf_counter() - idle_wall0
            open_links = len(router.links)
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
    print(f"   where the CPU went ({kind}, {speakers} speaker(s)): {top}")
    return {
        "idle_us_per_link_tick": idle_cpu / (idle_wall / 0.02) / max(1, open_links) * 1e6,
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


async def main(seconds: float, counts: list[int], capture_ms: int,
               transports: list[str]) -> None:
    config = LinkConfig(capture_ms=capture_ms)
    server = LiveKitServer(binary=find_binary())
    server.start()
    table: dict[str, dict[str, float]] = {}
    try:
        print("== latency (in-process simulator, 1 speaker)")
        sim = PinchSimulator(livekit_url=server.url, livekit_api_key=server.api_key,
                             livekit_api_secret=server.api_secret, api_token=API_TOKEN)
        await sim.start()
        try:
            for kind in transports:
                figures = await run_engine(kind, sim.base_url, 1, seconds, config)
                table[kind] = dict(figures)
                print(f"{kind}: Discord→Pinch (bot-added): p50 {figures['uplink_p50_ms']:.1f} ms, "
                      f"p95 {figures['uplink_p95_ms']:.1f} ms; Pinch→Discord (bot-added): p50 "
                      f"{figures['downlink_p50_ms']:.1f} ms, p95 {figures['downlink_p95_ms']:.1f} "
                      f"ms over {figures['segments']:.0f} segments")
        finally:
            await sim.aclose()

        print("== CPU (simulator in its own process)")
        base_url, proc = await simulator_subprocess(server)
        try:
            for count in counts:
                for kind in transports:
                    figures = await run_engine(kind, base_url, count, seconds, config)
                    table[kind][f"cpu_{count}"] = figures["cpu_us_per_speaker_tick"]
                    table[kind][f"idle_{count}"] = figures["idle_us_per_link_tick"]
                    print(f"{kind}, {count} speaker(s): "
                          f"{figures['cpu_us_per_speaker_tick']:.0f} µs CPU per speaker per "
                          f"20 ms ({figures['cpu_us_per_speaker_frame']:.0f} µs per 20 ms of "
                          f"speech; 40 % of each cycle is pause), process at "
                          f"{figures['cpu_share_of_one_core'] * 100:.0f} % of one core, "
                          f"{figures['python_share'] * 100:.0f} % of it on the Python thread; "
                          f"idle: {figures['idle_us_per_link_tick']:.0f} µs per open link "
                          f"per 20 ms")
        finally:
            proc.terminate()
            await proc.wait()
    finally:
        server.cleanup()
    print_table(table, counts, transports)


def print_table(table: dict[str, dict[str, float]], counts: list[int],
                transports: list[str]) -> None:
    """The README's table: one column per transport."""
    print("\n| Figure | " + " | ".join(transports) + " |")
    print("|---|" + "---|" * len(transports))
    rows = [("Discord→Pinch latency p50 / p95 (bot-added)", "uplink_p50_ms", "uplink_p95_ms"),
            ("Pinch→Discord latency p50 / p95 (bot-added)", "downlink_p50_ms",
             "downlink_p95_ms")]
    for label, p50, p95 in rows:
        cells = [f"{table[k][p50]:.1f} / {table[k][p95]:.1f} ms" for k in transports]
        print(f"| {label} | " + " | ".join(cells) + " |")
    for count in counts:
        cells = [f"{table[k][f'cpu_{count}'] / 1000:.2f} ms" for k in transports]
        print(f"| CPU per active speaker per 20 ms, {count} speaking | " + " | ".join(cells)
              + " |")
    for count in counts:
        cells = [f"{table[k][f'idle_{count}'] / 1000:.2f} ms" for k in transports]
        print(f"| CPU per idle open link per 20 ms, {count} open | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--speakers", default="1,4,8")
    parser.add_argument("--capture-ms", type=int, default=LinkConfig().capture_ms)
    parser.add_argument("--transports", default=",".join(TRANSPORTS))
    args = parser.parse_args()
    print(f"capture_ms={args.capture_ms}")
    asyncio.run(main(args.seconds, [int(n) for n in args.speakers.split(",")], args.capture_ms,
                     args.transports.split(",")))
    end_process(0)
