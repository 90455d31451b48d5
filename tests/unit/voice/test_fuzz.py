"""Fuzz: 100,000+ random, mutated and authentic-but-hostile datagrams through the path.

Everything is called directly (not through ``VoiceReceiver.feed``, which would
swallow an exception) so that any raise fails the test. Memory is traced after a
warm-up: per-SSRC state, held audio and counters must stay bounded.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np

from bot.voice.pipeline import ReceivePipeline
from tests.fakes.dave import LocalDaveGroup
from tests.support.voice_packets import (
    AES_GCM,
    XCHACHA,
    RtpSender,
    opus_frames,
    transport_encrypt,
)

KEY = bytes(range(7, 39))
BOT, ALICE = 1_000_000_000_000_000_001, 1_000_000_000_000_000_002
BOUND_SSRCS = (1, 2, 3)
SEED = 20260325


def random_datagrams(rng: np.random.Generator, count: int) -> Iterator[bytes]:
    """Random bytes of random length, a third dressed up as RTP v2 / payload type 120."""
    lengths = rng.integers(0, 400, count)
    blob = rng.integers(0, 256, int(lengths.sum()), dtype=np.uint8)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    first = rng.choice(np.array([0x80, 0x90, 0xA0, 0xB0, 0x8F, 0x9F], dtype=np.uint8), count)
    second = rng.choice(np.array([0x78, 0xF8, 0xC8, 0x60], dtype=np.uint8), count)
    for i in range(count):
        chunk = blob[offsets[i] : offsets[i + 1]]
        if i % 3 == 0 and len(chunk) >= 2:
            chunk[0], chunk[1] = first[i], second[i]
        yield chunk.tobytes()


def mutated_datagrams(rng: np.random.Generator, seeds: list[bytes], count: int) -> Iterator[bytes]:
    """Valid packets with bit flips, truncations or appended bytes."""
    picks = rng.integers(0, len(seeds), count)
    kinds = rng.integers(0, 3, count)
    positions = rng.random(count)
    bits = rng.integers(0, 8, count)
    extra = rng.integers(0, 256, (count, 8), dtype=np.uint8)
    for i in range(count):
        packet = bytearray(seeds[picks[i]])
        at = int(positions[i] * len(packet))
        if kinds[i] == 0:
            packet[at] ^= 1 << int(bits[i])
        elif kinds[i] == 1:
            del packet[at:]
        else:
            packet += extra[i].tobytes()
        yield bytes(packet)


def hostile_datagrams(rng: np.random.Generator, count: int) -> Iterator[bytes]:
    """Correctly encrypted packets with hostile contents: they pass authentication.

    Random flags, CSRC counts, extension lengths (even beyond the plaintext),
    padding bytes, sequence/timestamp jumps, SSRCs known and unknown, garbage Opus.
    """
    first = rng.integers(0, 64, count) | 0x80
    seq = rng.integers(0, 1 << 16, count)
    jitter = rng.integers(-5, 6, count)
    ts = rng.integers(0, 1 << 32, count, dtype=np.uint64)
    ssrc = rng.choice(np.array([*BOUND_SSRCS, 99, 100, 101]), count)
    ext_words = rng.integers(0, 4, count)
    body_len = rng.integers(0, 120, count)
    bodies = rng.integers(0, 256, int(body_len.sum()), dtype=np.uint8)
    offsets = np.concatenate(([0], np.cumsum(body_len)))
    modes = (XCHACHA, AES_GCM)
    for i in range(count):
        flags = int(first[i])
        cc = flags & 0x0F if i % 4 == 0 else 0
        header = bytes([flags & ~0x0F | cc, 0x78]) + (
            int((seq[i] if i % 2 else 100 + i + jitter[i]) & 0xFFFF).to_bytes(2, "big")
            + int(ts[i] if i % 5 == 0 else (100 + i) * 960 & 0xFFFFFFFF).to_bytes(4, "big")
            + int(ssrc[i]).to_bytes(4, "big")
            + bytes(4 * cc)
        )
        if flags & 0x10:
            header += b"\xbe\xde" + int(ext_words[i] * (7 if i % 7 == 0 else 1)).to_bytes(2, "big")
        plaintext = bodies[offsets[i] : offsets[i + 1]].tobytes()
        yield transport_encrypt(modes[i % 2], KEY, header, plaintext, i)


def run(pipeline: ReceivePipeline, datagrams: Iterator[bytes], start: float) -> float:
    now = start
    for index, datagram in enumerate(datagrams):
        now += 0.001
        packet = pipeline.admit(datagram, now)
        if packet is not None:
            pipeline.process(packet)
        if index % 50 == 0:
            pipeline.tick(now)
    return now


def make_pipeline(dave: bool) -> ReceivePipeline:
    session = None
    if dave:
        group = LocalDaveGroup()
        session = group.add_member(BOT)
        group.add_member(ALICE)
    pipeline = ReceivePipeline(dave=lambda: session, self_user_id=BOT)
    for mode in (XCHACHA, AES_GCM):
        pipeline.set_transport(mode, KEY)
    for ssrc in BOUND_SSRCS:
        pipeline.bind(ssrc, ALICE)
    return pipeline


def seeds() -> list[bytes]:
    frames = opus_frames(20)
    out = []
    for mode in (XCHACHA, AES_GCM):
        sender = RtpSender(BOUND_SSRCS[0], mode, KEY)
        for i, frame in enumerate(frames):
            out.append(
                sender.packet(frame, extension=b"\x10\x7f\x00\x00" if i % 2 else None, padding=i)
            )
    return out


def feed_and_trace() -> tuple[int, int, list[int]]:
    """Feed 100,000+ datagrams through two pipelines; return (fed, growth, admitted)."""
    rng = np.random.default_rng(SEED)
    pipelines = [make_pipeline(dave=False), make_pipeline(dave=True)]
    for pipeline in pipelines:
        pipeline.set_transport(AES_GCM, KEY)
    valid = seeds()

    def batch(size: int) -> list[Iterator[bytes]]:
        return [
            random_datagrams(rng, size),
            mutated_datagrams(rng, valid, size),
            hostile_datagrams(rng, size),
        ]

    now = 0.0
    fed = 0
    for pipeline in pipelines:  # warm-up: decoders, caches, interned counters
        for datagrams in batch(1_000):
            now = run(pipeline, datagrams, now)
            fed += 1_000
    tracemalloc.start()
    try:
        baseline = tracemalloc.take_snapshot()
        for _ in range(2):
            for pipeline in pipelines:
                for datagrams in batch(8_000):
                    now = run(pipeline, datagrams, now)
                    fed += 8_000
            now += 120.0
            for pipeline in pipelines:
                pipeline.tick(now)  # idle streams and held audio expire
        growth = sum(
            stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(baseline, "filename")
        )
    finally:
        tracemalloc.stop()
    return fed, growth, [p.stats.packets_admitted for p in pipelines]


def test_hundred_thousand_hostile_datagrams_never_raise_and_memory_stays_bounded() -> None:
    # Traced in a fresh interpreter: CPython 3.11's tracemalloc.stop() races a native
    # thread taking the GIL (python/cpython#128679), and a test worker that has run
    # LiveKit tests has native threads calling back into Python. It crashed a worker once.
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        fed, growth, admitted = pool.submit(feed_and_trace).result(timeout=90)
    assert fed >= 100_000
    assert growth < 512 * 1024, f"memory grew by {growth} bytes"
    # The hostile part got past authentication into DAVE, the jitter buffer and Opus.
    assert all(count > 1_000 for count in admitted)
