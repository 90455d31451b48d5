"""Issue 16's benchmark suite: one run, one table, every ratio from that same run.

    scripts/bench                 the suite (≈ 8 minutes on 2 cores)
    scripts/bench --quick         a smoke run (≈ 1.5 minutes; figures not representative)
    scripts/bench soak            8 speakers for 30 minutes: memory growth, delay drift
    scripts/bench soak --minutes 2

Loads and durations: ``--seconds`` (measured talk per load), ``--speakers 1,4,8,16``,
``--transports livekit,websocket``, ``--frames`` (per-frame benchmarks), or the
environment variables ``BENCH_SECONDS``, ``BENCH_SPEAKERS``, ``BENCH_TRANSPORTS``,
``BENCH_FRAMES``. Each transport's loads run in a child process of their own (so the
WebSocket figures carry no idle LiveKit threads), against the Pinch simulator in a
third process and livekit-server; the per-frame figures run in this process first.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import platform
import sys
import time
from typing import Any

from livekit import rtc

from bot.process_exit import end_process
from tests.benchmarks import legs
from tests.benchmarks.load import API_TOKEN, TRANSPORTS, LoadFigures, measure
from tests.benchmarks.report import Goal, Tails, growth_percent, markdown_table, ms, ratio, times
from tests.benchmarks.speech import BITRATE_KBPS, EXPECTED_LOSS, libopus_version
from tests.support.livekit_server import REPO_ROOT, LiveKitServer, find_binary
from tests.support.ports import free_tcp_port

GOALS = {
    "cpu_livekit": Goal("CPU per active speaker, 8 speaking, LiveKit", 1.0, " ms"),
    "cpu_websocket": Goal("CPU per active speaker, 8 speaking, WebSocket", 0.3, " ms"),
    "idle": Goal("Idle link per 20 ms", 0.1, " ms"),
    "up_p95": Goal("Discord→Pinch p95, 8 speaking", 40, " ms"),
    "down_p95": Goal("Pinch→Discord p95, 8 speaking", 40, " ms"),
    "receive": Goal("Receive path / raw opus_decode, DAVE on", 1.3, "×"),
    "scaling": Goal("Speakers served on 2 cores / on 1 core", 1.6, "×", ">="),
    "soak": Goal("Soak memory growth, 30 min, 8 speaking", 5, " %"),
}


def machine() -> str:
    model = "?"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            lines = cpuinfo.read().splitlines()
        for line in lines:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{model}; {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable); "
            f"Python {platform.python_version()}; livekit rtc {rtc.__version__}; "
            f"{libopus_version()}; load average at start {load}")


# -- the children: one transport's loads ---------------------------------------------


async def _child(kind: str, base_url: str, counts: list[int], seconds: float) -> None:
    for count in counts:
        figures = await measure(kind, base_url, count, seconds)
        print("RESULT " + json.dumps(dataclasses.asdict(figures)), flush=True)


def _figures(raw: dict[str, Any]) -> LoadFigures:
    for key in ("uplink_ms", "downlink_ms", "link_hop_ms", "wake_uplink_ms"):
        raw[key] = Tails(**raw[key])
    raw["by_thread"] = [tuple(x) for x in raw["by_thread"]]
    return LoadFigures(**raw)


async def _run_child(kind: str, base_url: str, counts: list[int], seconds: float,
                     *, one_core: bool = False) -> list[LoadFigures]:
    args = [sys.executable, "-m", "tests.benchmarks.suite", "--child", kind,
            "--base-url", base_url, "--speakers", ",".join(map(str, counts)),
            "--seconds", str(seconds)]
    if one_core:
        args.append("--one-core")
    proc = await asyncio.create_subprocess_exec(*args, cwd=REPO_ROOT,
                                                stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    out: list[LoadFigures] = []
    async for line in proc.stdout:
        text = line.decode()
        if text.startswith("RESULT "):
            out.append(_figures(json.loads(text[7:])))
    if await proc.wait():
        raise RuntimeError(f"the {kind} load run failed (exit {proc.returncode})")
    return out


async def simulator(server: LiveKitServer) -> tuple[str, asyncio.subprocess.Process]:
    port = free_tcp_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.pinch", "--livekit-url", server.url,
        "--api-key", server.api_key, "--api-secret", server.api_secret,
        "--api-token", API_TOKEN, "--port", str(port),
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    await asyncio.wait_for(proc.stdout.readline(), 20)
    return f"http://127.0.0.1:{port}", proc


def scaling_estimate(two: LoadFigures, one: LoadFigures) -> float:
    """Speakers servable on 2 cores over those on 1, from the same load run both ways.

    One core serves ``1 / cpu₁`` speakers (CPU per speaker on one core). Two cores serve
    ``2 / cpu₂``, but the threads that hold the GIL (every Python thread) can use one
    core at most: ``1 / (cpu₂ × python share)``. An estimate, not a capacity search.
    """
    cap_one = ratio(20.0, one.cpu_ms_per_speaker)
    cap_two = min(ratio(40.0, two.cpu_ms_per_speaker),
                  ratio(20.0, two.cpu_ms_per_speaker * two.python_share))
    return ratio(cap_two, cap_one)


# -- the suite -------------------------------------------------------------------------


async def engine(counts: list[int], seconds: float, transports: list[str],
                 pin_count: int | None) -> tuple[dict[str, list[LoadFigures]], LoadFigures | None]:
    server = LiveKitServer(binary=find_binary())
    server.start()
    try:
        base_url, proc = await simulator(server)
        try:
            results = {kind: await _run_child(kind, base_url, counts, seconds)
                       for kind in transports}
            pinned = None
            if pin_count is not None and "livekit" in transports:
                pinned = (await _run_child("livekit", base_url, [pin_count], seconds,
                                           one_core=True))[0]
            return results, pinned
        finally:
            proc.terminate()
            await proc.wait()
    finally:
        server.cleanup()


def run_suite(frames: int, repeats: int, seconds: float, counts: list[int],
              transports: list[str]) -> None:
    start = time.monotonic()
    description = machine()
    print(f"machine: {description}", flush=True)
    print("per-frame benchmarks ...", flush=True)
    receive = legs.receive_path(frames, repeats)
    leg = legs.input_leg(frames, repeats)
    print(f"loads {counts} × {transports}, {seconds:g} s each ...", flush=True)
    pin = 8 if 8 in counts else None
    results, pinned = asyncio.run(engine(counts, seconds, transports, pin))
    print_table(description, receive, leg, results, pinned, counts, transports, seconds)
    print(f"\nsuite wall time {time.monotonic() - start:.0f} s")


def _at(results: dict[str, list[LoadFigures]], kind: str, count: int) -> LoadFigures | None:
    return next((f for f in results.get(kind, []) if f.speakers == count), None)


def print_table(description: str, receive: legs.ReceiveFigures, leg: legs.InputLegFigures,
                results: dict[str, list[LoadFigures]], pinned: LoadFigures | None,
                counts: list[int], transports: list[str], seconds: float) -> None:
    nan = float("nan")
    rows: list[list[str]] = []
    floor = receive.floor_us
    rows.append(["Receive path per 20 ms frame (parse, decrypt, DAVE, jitter, decode)",
                 f"{receive.ours_us:.1f} µs = {times(ratio(receive.ours_us, floor))} floor"])
    rows.append(["Floor: raw libopus opus_decode into a preallocated buffer",
                 f"{floor:.1f} µs = 1.00×"])
    rows.append(["Floor + the decryptions every receiver does (XChaCha20-Poly1305, DAVE)",
                 f"{receive.decrypt_floor_us:.1f} µs = "
                 f"{times(ratio(receive.decrypt_floor_us, floor))} floor; the receive path "
                 f"is {times(ratio(receive.ours_us, receive.decrypt_floor_us))} of it"])
    rows.append(["discord-ext-voice-recv reader/decoder + davey decrypt, same packets",
                 f"{receive.voice_recv_us:.1f} µs = "
                 f"{times(ratio(receive.voice_recv_us, floor))} floor"])
    rows.append(["Input leg: downmix + resample + re-chunk (UplinkConverter)",
                 f"{leg.convert_us:.1f} µs"])
    rows.append(["Input leg hand-off: LiveKit capture_frame / WebSocket send_bytes",
                 f"{leg.livekit_handoff_us:.1f} µs / {leg.websocket_handoff_us:.1f} µs"])
    print(f"\n### Benchmarks (one run of `scripts/bench`)\n\nMachine: {description}. Speech: "
          f"speech-like phrases, Opus VOIP {BITRATE_KBPS} kbps, FEC on "
          f"({EXPECTED_LOSS:.0%} expected loss), 20 ms stereo 48 kHz, DAVE + xchacha. "
          f"{seconds:g} s of talk measured per load.\n")
    print(markdown_table(["Per frame (one thread)", "Measured"], rows))

    header = ["Load"] + [f"{k}: {h}" for k in transports
                         for h in ("CPU/speaker/20 ms", "Discord→Pinch p50/p95/p99",
                                   "Pinch→Discord p50/p95/p99", "RSS/speaker")]
    load_rows = []
    for count in counts:
        cells = [f"{count} speaking"]
        for kind in transports:
            f = _at(results, kind, count)
            if f is None:
                cells += ["—"] * 4
                continue
            cells += [f"{f.cpu_ms_per_speaker:.2f} ms ({f.core_share:.0%} of a core)",
                      f"{f.uplink_ms} ms", f"{f.downlink_ms} ms",
                      f"{f.rss_mb_per_speaker:.1f} MB"]
        load_rows.append(cells)
    print()
    print(markdown_table(header, load_rows))

    extra: list[list[str]] = []
    for kind in transports:
        for f in results.get(kind, []):
            rested = ("—" if math.isnan(f.rested_idle_ms_per_link)
                      else f"{f.rested_idle_ms_per_link:.3f} ms")
            woke = f"{f.wake_uplink_ms} ms" if f.wake_uplink_ms.count else "—"
            extra.append([f"{kind}, {f.speakers} speaking",
                          f"{f.idle_ms_per_link:.3f} ms", rested, woke, f"{f.link_hop_ms}",
                          f"{f.marks_lost} / {f.onsets_unmatched} (of {f.marks_sent})",
                          f"{f.feeder_late_max_ms:.0f} ms",
                          ", ".join(f"{n} {s:.0%}" for n, s in f.by_thread[:5])])
    print()
    print(markdown_table(["Load", "Idle link/20 ms awake", "Idle link/20 ms resting",
                          "First phrase after a rest: Discord→Pinch p50/p95/p99",
                          "Link hop p50/p95/p99 ms",
                          "Marks lost / onsets unmatched", "Feeder late max", "CPU by thread"],
                         extra))

    goal_rows = []
    lk8, ws8 = _at(results, "livekit", 8), _at(results, "websocket", 8)
    goal_rows.append(GOALS["cpu_livekit"].row(lk8.cpu_ms_per_speaker if lk8 else nan))
    goal_rows.append(GOALS["cpu_websocket"].row(ws8.cpu_ms_per_speaker if ws8 else nan))
    if lk8 is not None and not math.isnan(lk8.rested_idle_ms_per_link):
        goal_rows.append(GOALS["idle"].row(
            lk8.rested_idle_ms_per_link,
            f"livekit, 8 open, resting; awake {lk8.idle_ms_per_link:.2f} ms"))
    else:
        goal_rows.append(GOALS["idle"].row(lk8.idle_ms_per_link if lk8 else nan,
                                           "livekit, 8 open, awake"))
    goal_rows.append(GOALS["idle"].row(ws8.idle_ms_per_link if ws8 else nan,
                                       "websocket, 8 open"))
    for kind, f in (("livekit", lk8), ("websocket", ws8)):
        goal_rows.append(GOALS["up_p95"].row(f.uplink_ms.p95 if f else nan, kind))
        goal_rows.append(GOALS["down_p95"].row(f.downlink_ms.p95 if f else nan, kind))
    goal_rows.append(GOALS["receive"].row(
        ratio(receive.ours_us, floor),
        f"the two decryptions alone take the floor to "
        f"{times(ratio(receive.decrypt_floor_us, floor))}"))
    scaling = scaling_estimate(lk8, pinned) if lk8 and pinned else nan
    goal_rows.append(GOALS["scaling"].row(
        scaling, "estimate, LiveKit, 8 speaking, 1 core pinned vs 2" if lk8 and pinned else ""))
    goal_rows.append(GOALS["soak"].row(nan, "run `scripts/bench soak`"))
    print()
    print(markdown_table(["Goal", "Measured", "Met?"], goal_rows))


# -- the soak ----------------------------------------------------------------------------


async def soak(minutes: float, speakers: int, kind: str, window_s: float) -> None:
    from tests.benchmarks.load import Rig, rss_mb
    from tests.benchmarks.report import tails

    description = machine()  # its load average is the one at the start
    server = LiveKitServer(binary=find_binary())
    server.start()
    try:
        base_url, proc = await simulator(server)
        try:
            rig = Rig(kind, base_url, speakers)
            async with rig:
                await rig.talk(None, 3.0)  # warm-up: sessions open
                await asyncio.sleep(3.0)  # what queued meanwhile drains (see load.measure)
                windows: list[tuple[float, Tails, Tails]] = []
                end = time.monotonic() + minutes * 60
                while time.monotonic() < end:
                    rig.probes.reset()
                    await rig.talk(None, min(window_s, max(1.0, end - time.monotonic())))
                    up = tails(x * 1000 for x in rig.probes.uplink)
                    down = tails(x * 1000 for x in rig.probes.downlink)
                    windows.append((rss_mb(), up, down))
                    print(f"  {len(windows) * window_s / 60:5.1f} min: RSS {windows[-1][0]:.1f}"
                          f" MB, Discord→Pinch {up} ms, Pinch→Discord {down} ms", flush=True)
        finally:
            proc.terminate()
            await proc.wait()
    finally:
        server.cleanup()
    first, last = windows[0], windows[-1]
    growth = growth_percent(first[0], last[0])
    rows = [list(GOALS["soak"].row(growth, f"{first[0]:.1f} → {last[0]:.1f} MB"))]
    for label, i in (("Discord→Pinch", 1), ("Pinch→Discord", 2)):
        a, b = first[i], last[i]
        rows.append([f"{label} drift p50 / p95 (first → last window)",
                     f"{ms(a.p50, 1)} → {ms(b.p50, 1)} / {ms(a.p95, 1)} → {ms(b.p95, 1)}",
                     "—" if math.isnan(b.p95) else f"{b.p95 - a.p95:+.1f} ms at p95"])
    print(f"\nsoak: {kind}, {speakers} speaking, {minutes:g} min, windows of {window_s:g} s; "
          f"{description}\n")
    print(markdown_table(["Goal / figure", "Measured", "Met? / drift"], rows))


# -- command line ------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=["suite", "soak"], default="suite")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 3 s per load, 1 and 4 speakers, few frames")
    parser.add_argument("--seconds", type=float, default=float(env("BENCH_SECONDS", "20")))
    parser.add_argument("--speakers", default=env("BENCH_SPEAKERS", "1,4,8,16"))
    parser.add_argument("--transports", default=env("BENCH_TRANSPORTS", ",".join(TRANSPORTS)))
    parser.add_argument("--frames", type=int, default=int(env("BENCH_FRAMES", "3000")))
    parser.add_argument("--minutes", type=float, default=30.0, help="soak length")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--one-core", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.speakers.split(",")]
    transports = args.transports.split(",")
    unknown = set(transports) - set(TRANSPORTS)
    if unknown:
        parser.error(f"unknown transport(s) {sorted(unknown)}; use {', '.join(TRANSPORTS)}")
    if args.child:
        if args.one_core:
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        asyncio.run(_child(args.child, args.base_url, counts, args.seconds))
        return
    if args.command == "soak":
        asyncio.run(soak(args.minutes, 8, transports[0], window_s=60.0 if args.minutes >= 5
                         else 15.0))
        return
    if args.quick:
        args.seconds, counts, args.frames = 3.0, [1, 4], 300
    run_suite(args.frames, 2 if args.quick else 3, args.seconds, counts, transports)


if __name__ == "__main__":
    main()
    end_process(0)
