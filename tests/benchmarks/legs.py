"""Per-frame costs on one thread, same packets for every contender (µs per 20 ms frame).

- the receive path (parse + transport decryption + DAVE + jitter buffer + Opus decode)
  against the floor, a raw libopus ``opus_decode`` into a preallocated buffer; against
  the floor plus the two decryptions no receiver can skip (the same XChaCha20-Poly1305
  and davey calls, nothing else: no parsing, no checks, no buffering); and
  against discord-ext-voice-recv's reader and decoder (its RTP parsing and
  decryption, heap jitter buffer and discord.py's decoder) with davey's decrypt
  added, since it has no DAVE; xchacha mode, the only one voice-recv supports;
- the input leg: ``UplinkConverter.push`` (downmix + resample + re-chunk) and the
  transport's hand-off of the frame: LiveKit's ``AudioSource.capture_frame`` (one
  FFI request; the source's queue drains at real time, so it is measured on a source
  with room for the whole run) or the WebSocket's ``send_bytes`` to a loopback peer.

Best of ``repeats`` runs of ``frames`` frames; CPU time of this thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import davey
from aiohttp import web
from livekit import rtc

from bot.interpretation.uplink import UplinkConverter
from bot.voice.dave_decrypt import dave_decrypt
from bot.voice.events import PcmFrame
from bot.voice.pipeline import ReceivePipeline
from bot.voice.rtp import RtpHeader, parse_header
from bot.voice.transport_crypto import TransportCipher
from tests.benchmarks.speech import RawOpusDecoder, encoded_speech
from tests.fakes.dave import LocalDaveGroup
from tests.support.voice_packets import XCHACHA, RtpSender, one_byte_extension

BOT, ALICE, SSRC = 1_000_000_000_000_000_001, 1_000_000_000_000_000_002, 777
KEY = bytes(range(32))


@dataclass(frozen=True, slots=True)
class ReceiveFigures:
    ours_us: float
    floor_us: float
    voice_recv_us: float
    decrypt_floor_us: float
    """The floor plus transport decryption and DAVE decryption of each packet."""


def _best(run: Callable[[], int], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.thread_time()
        n = run()
        best = min(best, (time.thread_time() - t0) / n * 1e6)
    return best


def receive_path(frames: int, repeats: int) -> ReceiveFigures:
    group = LocalDaveGroup()
    bot = group.add_member(BOT)
    alice = group.add_member(ALICE)
    speech, opus = encoded_speech(seed=7)
    voiced = [p for p, v in zip(opus, speech.voiced, strict=True) if v]
    stream = [voiced[i % len(voiced)] for i in range(frames)]
    sender = RtpSender(SSRC, XCHACHA, KEY, sequence=60_000)
    extension = one_byte_extension({1: b"\x90"})

    def fresh() -> list[bytes]:  # DAVE frames decrypt once (replay protection)
        return [sender.packet(alice.encrypt_opus(f), extension=extension) for f in stream]

    def ours() -> int:
        packets = fresh()
        pipeline = ReceivePipeline(dave=lambda: bot, self_user_id=BOT)
        pipeline.set_transport(XCHACHA, KEY)
        pipeline.bind(SSRC, ALICE)
        out = 0
        t0 = time.thread_time()
        for i, datagram in enumerate(packets):
            packet = pipeline.admit(datagram, i * 0.02)
            if packet is not None:
                out += sum(isinstance(e, PcmFrame) for e in pipeline.process(packet))
        ours.elapsed = time.thread_time() - t0  # type: ignore[attr-defined]
        if pipeline.stats.drops:
            raise RuntimeError(f"receive path dropped frames: {pipeline.stats.snapshot()}")
        return out

    raw = RawOpusDecoder()

    def floor() -> int:
        for frame in stream:
            raw.decode(frame)
        return len(stream)

    def decrypt_floor() -> int:
        packets = fresh()
        header = parse_header(packets[0])
        assert isinstance(header, RtpHeader)
        clear, start = header.clear_length, header.extension_length
        cipher = TransportCipher(XCHACHA, KEY)
        t0 = time.thread_time()
        for datagram in packets:
            plain = cipher.decrypt(datagram, clear)
            assert plain is not None
            opus = bot.decrypt(ALICE, davey.MediaType.audio, plain[start:])
            raw.decode(opus)
        decrypt_floor.elapsed = time.thread_time() - t0  # type: ignore[attr-defined]
        return len(packets)

    def voice_recv() -> int:
        import discord.opus
        from discord.ext.voice_recv import rtp
        from discord.ext.voice_recv.buffer import HeapJitterBuffer
        from discord.ext.voice_recv.reader import PacketDecryptor

        packets = fresh()
        decryptor = PacketDecryptor(XCHACHA, KEY)
        jitter: HeapJitterBuffer = HeapJitterBuffer()
        decoder = discord.opus.Decoder()
        out = 0
        t0 = time.thread_time()
        for datagram in packets:
            packet = rtp.decode_rtp(datagram)
            clear = decryptor.decrypt_rtp(packet)
            packet.decrypted_data = dave_decrypt(bot, ALICE, clear)
            jitter.push(packet)
            ready = jitter.pop(timeout=0)
            if ready:
                decoder.decode(ready.decrypted_data, fec=False)
                out += 1
        voice_recv.elapsed = time.thread_time() - t0  # type: ignore[attr-defined]
        return out

    def timed(run: Callable[[], int]) -> float:
        best = float("inf")
        for _ in range(repeats):
            n = run()
            best = min(best, run.elapsed / max(1, n) * 1e6)  # type: ignore[attr-defined]
        return best

    try:
        return ReceiveFigures(timed(ours), _best(floor, repeats), timed(voice_recv),
                              timed(decrypt_floor))
    finally:
        raw.close()


@dataclass(frozen=True, slots=True)
class InputLegFigures:
    convert_us: float
    livekit_handoff_us: float
    websocket_handoff_us: float


def input_leg(frames: int, repeats: int) -> InputLegFigures:
    speech, _ = encoded_speech(seed=7)
    pcm = [speech.pcm[i % len(speech.pcm)] for i in range(frames)]

    def convert() -> int:
        converter = UplinkConverter(publish_rate=16_000, capture_ms=20)
        for frame in pcm:
            converter.push(frame)
        return frames

    convert_us = _best(convert, repeats)
    chunk = UplinkConverter(16_000, 20).push(pcm[0] * 2)[0]
    livekit_us, websocket_us = asyncio.run(_handoffs(chunk, frames, repeats))
    return InputLegFigures(convert_us, livekit_us, websocket_us)


async def _handoffs(chunk: bytes, frames: int, repeats: int) -> tuple[float, float]:
    best_lk = best_ws = float("inf")
    samples = len(chunk) // 2
    for _ in range(repeats):
        # Room for the whole run, so capture_frame never waits for real time.
        source = rtc.AudioSource(16_000, 1, queue_size_ms=frames * 20 + 1000)
        try:
            t0 = time.thread_time()
            for _ in range(frames):
                await source.capture_frame(rtc.AudioFrame(chunk, 16_000, 1, samples))
            best_lk = min(best_lk, (time.thread_time() - t0) / frames * 1e6)
        finally:
            # Disposing a source with a minute of unplayed audio queued spins in native
            # code (the full run hung there for 20 min): drop the queue first.
            source.clear_queue()
            await source.aclose()

    async def sink(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/", sink)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session, session.ws_connect(
                f"http://127.0.0.1:{port}/") as ws:
            for _ in range(repeats):
                # The peer reads on this same thread: time only the sends.
                spent = 0.0
                for _ in range(frames):
                    t0 = time.thread_time()
                    await ws.send_bytes(chunk)
                    spent += time.thread_time() - t0
                    await asyncio.sleep(0)  # let the peer drain, outside the timing
                best_ws = min(best_ws, spent / frames * 1e6)
    finally:
        await runner.cleanup()
    return best_lk, best_ws
