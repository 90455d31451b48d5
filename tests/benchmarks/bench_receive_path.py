"""Cost of receiving one member's 20 ms voice frame (prints figures, asserts nothing).

    .venv/bin/python -m tests.benchmarks.bench_receive_path

Packets are built beforehand exactly as a Discord client sends them (DAVE-encrypted
Opus from a real in-process MLS group, RTP with header extension and padding,
transport-encrypted); the timed loop is the whole receive path per packet:
parse + transport decryption + stripping (socket thread), then DAVE decryption +
jitter buffer + Opus decoding (decoding thread). Stages are also timed apart,
and the threaded ``VoiceReceiver`` is measured end to end with real hand-offs.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time

from bot.voice.dave_decrypt import dave_decrypt
from bot.voice.decoder import StreamDecoder
from bot.voice.events import PcmFrame
from bot.voice.jitter_buffer import JitterBuffer
from bot.voice.pipeline import ReceivePipeline
from bot.voice.receiver import VoiceReceiver
from tests.fakes.dave import LocalDaveGroup
from tests.support.voice_packets import MODES, RtpSender, one_byte_extension, opus_frames

FRAMES = 3000  # 60 s of one member's speech
REPEATS = 3
BOT, ALICE, SSRC = 1_000_000_000_000_000_001, 1_000_000_000_000_000_002, 777
KEY = bytes(range(32))


class Setup:
    def __init__(self, mode: str) -> None:
        group = LocalDaveGroup()
        self.bot = group.add_member(BOT)
        self.alice = group.add_member(ALICE)
        self.mode = mode
        self.opus = opus_frames(250)

    def packets(self) -> list[bytes]:
        """A fresh stream (DAVE frames decrypt once: replay protection)."""
        sender = RtpSender(SSRC, self.mode, KEY, sequence=60_000)
        extension = one_byte_extension({1: b"\x90"})
        return [
            sender.packet(
                self.alice.encrypt_opus(self.opus[i % 250]), extension=extension, padding=4
            )
            for i in range(FRAMES)
        ]

    def pipeline(self) -> ReceivePipeline:
        pipeline = ReceivePipeline(dave=lambda: self.bot, self_user_id=BOT)
        pipeline.set_transport(self.mode, KEY)
        pipeline.bind(SSRC, ALICE)
        return pipeline


def whole_path(setup: Setup) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        packets = setup.packets()
        pipeline = setup.pipeline()
        frames = 0
        start = time.perf_counter()
        for i, datagram in enumerate(packets):
            packet = pipeline.admit(datagram, i * 0.02)
            assert packet is not None
            frames += sum(isinstance(e, PcmFrame) for e in pipeline.process(packet))
        elapsed = time.perf_counter() - start
        assert frames == FRAMES, pipeline.stats.snapshot()
        assert not pipeline.stats.drops, pipeline.stats.snapshot()
        best = min(best, elapsed / FRAMES)
    return best * 1e6


def stages(setup: Setup) -> dict[str, float]:
    packets = setup.packets()
    pipeline = setup.pipeline()
    t0 = time.perf_counter()
    admitted = [pipeline.admit(d, i * 0.02) for i, d in enumerate(packets)]
    t1 = time.perf_counter()
    frames = [dave_decrypt(setup.bot, ALICE, p.payload) for p in admitted if p is not None]
    t2 = time.perf_counter()
    pairs = [(p, f) for p, f in zip(admitted, frames, strict=True) if p and isinstance(f, bytes)]
    t2b = time.perf_counter()
    jitter = JitterBuffer()
    slots = [jitter.push(p.sequence, p.timestamp, f, p.received_at) for p, f in pairs]
    t3 = time.perf_counter()
    decoder = StreamDecoder()
    for _, f in pairs:
        decoder.decode(f)
    t4 = time.perf_counter()
    assert len(slots) == FRAMES
    per = 1e6 / FRAMES
    return {
        "parse+transport+strip (socket thread)": (t1 - t0) * per,
        "DAVE decrypt": (t2 - t1) * per,
        "jitter buffer": (t3 - t2b) * per,
        "Opus decode": (t4 - t3) * per,
    }


THREADED_FRAMES = 1000
PACING = 0.002  # 10x real time: busy, yet never filling the packet queue


async def threaded(setup: Setup) -> tuple[float, float, float]:
    """The running receiver fed from a reader-like thread.

    Returns feed() median and p99 (what discord.py's reader thread pays per datagram)
    and the median hand-off latency from feed() to the PcmFrame reaching an async
    consumer (packets in order, so no jitter-buffer wait is included).
    """
    packets = setup.packets()[:THREADED_FRAMES]
    async with VoiceReceiver(dave=lambda: setup.bot, self_user_id=BOT) as receiver:
        receiver.set_transport(setup.mode, KEY)
        receiver.bind(SSRC, ALICE)
        feed_times: list[float] = []

        def reader() -> None:
            for datagram in packets:
                t = time.perf_counter()
                receiver.feed(datagram)
                feed_times.append(time.perf_counter() - t)
                time.sleep(PACING)

        thread = threading.Thread(target=reader)
        thread.start()
        latencies: list[float] = []
        async for item in receiver:
            if isinstance(item, PcmFrame):
                latencies.append(time.monotonic() - item.received_at)
                if len(latencies) == THREADED_FRAMES:
                    break
        thread.join()
    feed_times.sort()
    return (
        statistics.median(feed_times) * 1e6,
        feed_times[int(len(feed_times) * 0.99)] * 1e6,
        statistics.median(latencies) * 1e6,
    )


def main() -> None:
    print(f"receive path, one member, {FRAMES} frames of 20 ms, best of {REPEATS}")
    for mode in MODES:
        setup = Setup(mode)
        print(f"\n{mode}")
        print(f"  whole path (parse+decrypt+DAVE+jitter+decode): {whole_path(setup):7.1f} µs/frame")
        for name, cost in stages(setup).items():
            print(f"    {name:40s} {cost:7.1f} µs/frame")
        feed, feed_p99, latency = asyncio.run(threaded(setup))
        print(f"  running receiver: feed() median {feed:5.1f} µs, p99 {feed_p99:5.1f} µs;")
        print(f"    feed() → PcmFrame at an async consumer: median {latency:7.1f} µs")
    print("\nbudget: 20,000 µs of audio per frame per member")


if __name__ == "__main__":
    main()
