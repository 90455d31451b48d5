"""The real livekit-server carries audio and data between two SDK participants."""

from __future__ import annotations

import asyncio
import json

import numpy as np
from livekit import rtc

from bot.interpretation.livekit_room import connect_room
from tests.support.livekit_server import LiveKitServer
from tests.support.signals import dominant_frequency, rms, tone

SAMPLE_RATE = 48_000
FRAME_MS = 20
SAMPLES_PER_FRAME = SAMPLE_RATE * FRAME_MS // 1000


async def _join(server: LiveKitServer, identity: str, room_name: str) -> rtc.Room:
    room = rtc.Room()
    await connect_room(room, server.url, server.token(identity, room_name), timeout=15)
    return room


async def _publish_tone(source: rtc.AudioSource, freq: float, seconds: float) -> None:
    frames = int(seconds * 1000 / FRAME_MS)
    for i in range(frames):
        chunk = tone(freq, FRAME_MS / 1000, SAMPLE_RATE, phase_samples=i * SAMPLES_PER_FRAME)
        frame = rtc.AudioFrame(chunk.tobytes(), SAMPLE_RATE, 1, SAMPLES_PER_FRAME)
        await source.capture_frame(frame)


async def test_tone_published_by_one_participant_is_heard_at_440_hz_by_another(
    livekit_server: LiveKitServer,
) -> None:
    sender = await _join(livekit_server, "sender", "smoke-audio")
    receiver = await _join(livekit_server, "receiver", "smoke-audio")
    subscribed: asyncio.Future[rtc.Track] = asyncio.get_running_loop().create_future()

    def on_subscribed(track: rtc.Track, *_: object) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO and not subscribed.done():
            subscribed.set_result(track)

    receiver.on("track_subscribed", on_subscribed)
    source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=100)
    track = rtc.LocalAudioTrack.create_audio_track("tone", source)
    await sender.local_participant.publish_track(
        track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    )
    publisher = asyncio.create_task(_publish_tone(source, 440.0, 4.0))
    try:
        remote = await asyncio.wait_for(subscribed, 10)
        stream = rtc.AudioStream(remote, sample_rate=SAMPLE_RATE, num_channels=1, capacity=500)
        heard: list[np.ndarray] = []
        async def collect() -> None:
            async for event in stream:
                samples = np.frombuffer(event.frame.data, dtype=np.int16)
                if rms(samples) > 1000:  # skip the silent start of the stream
                    heard.append(samples.copy())
                if sum(len(h) for h in heard) >= SAMPLE_RATE:  # one second of tone
                    return
        await asyncio.wait_for(collect(), 10)
        await stream.aclose()
    finally:
        publisher.cancel()
        await asyncio.gather(publisher, return_exceptions=True)
        await sender.disconnect()
        await receiver.disconnect()

    signal = np.concatenate(heard)
    assert abs(dominant_frequency(signal, SAMPLE_RATE) - 440.0) < 5.0


async def test_reliable_json_data_packet_arrives_intact(livekit_server: LiveKitServer) -> None:
    sender = await _join(livekit_server, "data-sender", "smoke-data")
    receiver = await _join(livekit_server, "data-receiver", "smoke-data")
    loop = asyncio.get_running_loop()
    received: asyncio.Future[rtc.DataPacket] = loop.create_future()
    receiver.on("data_received",
                lambda p: received.done() or received.set_result(p))
    payload = {"type": "original_transcript", "text": "¿Hola, qué tal?", "is_final": True,
               "timestamp": 1770933604.048, "nested": {"n": [1, 2, 3]}}
    try:
        # Data sent before the receiver is active on the sender's side can be lost.
        deadline = loop.time() + 10
        while "data-receiver" not in sender.remote_participants:
            assert loop.time() < deadline, "receiver never appeared"
            await asyncio.sleep(0.05)
        await sender.local_participant.publish_data(
            json.dumps(payload).encode(), reliable=True, topic="transcripts"
        )
        packet = await asyncio.wait_for(received, 10)
    finally:
        await sender.disconnect()
        await receiver.disconnect()

    assert json.loads(packet.data) == payload
    assert packet.topic == "transcripts"
    assert packet.participant is not None
    assert packet.participant.identity == "data-sender"
