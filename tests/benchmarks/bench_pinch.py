"""Pinch client and simulator figures (prints, asserts nothing).

    .venv/bin/python -m tests.benchmarks.bench_pinch

* ``create_session`` over loopback HTTP, including the simulator's agent joining
  the real local LiveKit room before it answers.
* Round trip of spoken segments through LiveKit: from the last voiced frame handed
  to the speaker's AudioSource (100 ms queue) to the final original transcript, the
  final translation and the first loud frame of translated audio, as the speaker
  receives them. The agent's 500 ms end-of-speech pause is included.
* TranscriptParser cost per message (valid, trailing-comma, garbage).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time

from bot.pinch import PinchClient, TranscriptParser
from bot.secrets import Secret
from tests.fakes.pinch import PinchSimulator
from tests.fakes.pinch.probe import RoomProbe
from tests.support.livekit_server import LiveKitServer, find_binary

TOKEN = "bench-pinch-token-123"
SESSIONS = 10
SEGMENTS = 5


def _summary(name: str, values_ms: list[float]) -> None:
    values = sorted(values_ms)
    print(
        f"  {name:<44} median {statistics.median(values):7.1f} ms   "
        f"min {values[0]:7.1f}   max {values[-1]:7.1f}   (n={len(values)})"
    )


async def bench_create_session(sim: PinchSimulator) -> None:
    timings: list[float] = []
    async with PinchClient(sim.base_url, Secret(TOKEN)) as client:
        for _ in range(SESSIONS):
            t0 = time.perf_counter()
            await client.create_session("en-US", "es-ES")
            timings.append((time.perf_counter() - t0) * 1000)
    _summary("create_session (agent joined)", timings)


async def bench_round_trip(sim: PinchSimulator) -> None:
    async with PinchClient(sim.base_url, Secret(TOKEN)) as client:
        session = await client.create_session("en-US", "es-ES")
    to_original: list[float] = []
    to_translation: list[float] = []
    to_audio: list[float] = []
    async with RoomProbe(session.url, session.token.reveal()) as probe:
        await probe.wait_for_agent_audio()
        for i in range(SEGMENTS):
            await probe.speak(300.0 + 100 * i, 0.6)
            spoken_until = time.time()
            await probe.pause(0.7)
            await probe.wait_until(
                lambda n=i + 1: len(probe.tone_bursts()) >= n
                and time.time() - probe.tone_bursts()[-1].ended_at > 0.1,
                timeout=10,
            )
            to_original.append((probe.finals("original")[i].at - spoken_until) * 1000)
            to_translation.append((probe.finals("translated")[i].at - spoken_until) * 1000)
            to_audio.append((probe.tone_bursts()[i].started_at - spoken_until) * 1000)
    _summary("end of speech → final original transcript", to_original)
    _summary("end of speech → final translation", to_translation)
    _summary("end of speech → first translated audio", to_audio)
    records = sim.sessions[-1].segments
    agent = [
        ((r.final_original_sent_at or 0) - r.ended_at) * 1000 for r in records
    ]
    _summary("agent: last voiced frame → final sent", agent)


def bench_parser() -> None:
    valid = json.dumps({"type": "original_transcript", "text": "Hello, how are you?",
                        "timestamp": 1770933604.048, "is_final": True,
                        "language_detected": "en-US"}).encode()
    trailing = valid[:-1] + b",}"
    garbage = b"\xff\xfe not a transcript at all"
    for label, data in (("valid", valid), ("trailing comma", trailing), ("garbage", garbage)):
        parser = TranscriptParser()
        n = 50_000
        t0 = time.perf_counter()
        for _ in range(n):
            parser.parse(data)
        per = (time.perf_counter() - t0) / n * 1e6
        print(f"  TranscriptParser.parse, {label:<16} {per:6.2f} µs/message")


async def main() -> None:
    server = LiveKitServer(binary=find_binary())
    server.start()
    try:
        sim = PinchSimulator(
            livekit_url=server.url,
            livekit_api_key=server.api_key,
            livekit_api_secret=server.api_secret,
            api_token=TOKEN,
        )
        async with sim:
            print("Pinch client and simulator (loopback, real livekit-server):")
            await bench_create_session(sim)
            await bench_round_trip(sim)
        bench_parser()
    finally:
        server.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
