"""The running receiver: socket-thread hand-off, decoding thread, async output."""

from __future__ import annotations

import asyncio
import threading

from bot.voice.events import PcmFrame, ReceiveEvent, SpeakingEvent
from bot.voice.receiver import VoiceReceiver
from bot.voice.rtp import DropReason
from tests.support.voice_packets import AES_GCM, RtpSender, opus_frames

KEY = bytes(range(32))
MEMBER = 555
SSRC = 31


def feed_from_reader_thread(receiver: VoiceReceiver, datagrams: list[bytes]) -> None:
    """Like discord.py's SocketReader: another thread calls the listener per datagram."""

    def read_socket() -> None:
        for datagram in datagrams:
            receiver.feed(datagram)

    thread = threading.Thread(target=read_socket)
    thread.start()
    thread.join()


async def collect(receiver: VoiceReceiver, count: int) -> list[ReceiveEvent]:
    items: list[ReceiveEvent] = []
    async with asyncio.timeout(10):
        async for item in receiver:
            items.append(item)
            if len(items) == count:
                break
    return items


async def test_datagrams_from_the_reader_thread_come_out_as_frames_in_order() -> None:
    frames = opus_frames(10)
    sender = RtpSender(SSRC, AES_GCM, KEY)
    async with VoiceReceiver(dave=lambda: None) as receiver:
        receiver.set_transport(AES_GCM, KEY)
        receiver.bind(SSRC, MEMBER)
        feed_from_reader_thread(receiver, [sender.packet(f) for f in frames])
        items = await collect(receiver, 11)
    assert isinstance(items[0], SpeakingEvent)
    assert (items[0].member_id, items[0].speaking) == (MEMBER, True)
    pcm = [i for i in items if isinstance(i, PcmFrame)]
    assert [f.rtp_timestamp for f in pcm] == [960 * i for i in range(10)]
    assert receiver.stats.frames_decoded == 10


async def test_speaking_stops_when_the_member_goes_quiet() -> None:
    sender = RtpSender(SSRC, AES_GCM, KEY)
    async with VoiceReceiver(dave=lambda: None) as receiver:
        receiver.set_transport(AES_GCM, KEY)
        receiver.bind(SSRC, MEMBER)
        feed_from_reader_thread(receiver, [sender.packet(f) for f in opus_frames(2)])
        items = await collect(receiver, 4)
    assert [i.speaking for i in items if isinstance(i, SpeakingEvent)] == [True, False]


async def test_iteration_ends_when_the_receiver_closes() -> None:
    receiver = VoiceReceiver(dave=lambda: None)
    await receiver.start()
    reader = asyncio.create_task(collect(receiver, 1000))
    await receiver.aclose()
    assert await reader == []


async def test_closing_twice_is_harmless() -> None:
    receiver = VoiceReceiver(dave=lambda: None)
    await receiver.start()
    await receiver.aclose()
    await receiver.aclose()


async def test_feed_never_raises_into_the_reader_thread() -> None:
    async with VoiceReceiver(dave=lambda: None) as receiver:
        receiver.feed(None)  # type: ignore[arg-type]
        receiver.feed(b"")
        receiver.feed(b"\x80\x78" + bytes(100))
    assert receiver.stats.drops[DropReason.TOO_SHORT] == 1
    assert receiver.stats.drops[DropReason.NO_KEY] == 1


async def test_datagrams_fed_before_start_are_counted_not_queued() -> None:
    receiver = VoiceReceiver(dave=lambda: None)
    receiver.set_transport(AES_GCM, KEY)
    receiver.feed(RtpSender(SSRC, AES_GCM, KEY).packet(opus_frames(1)[0]))
    assert receiver.stats.drops == {DropReason.NOT_RUNNING: 1}


async def test_bot_lookup_is_cached_once_known() -> None:
    answers = {1: None, 2: True}
    calls: list[int] = []

    def lookup(member_id: int) -> bool | None:
        calls.append(member_id)
        return answers[member_id]

    receiver = VoiceReceiver(dave=lambda: None, is_bot=lookup)
    assert receiver.is_bot(1) is False
    answers[1] = False
    assert receiver.is_bot(1) is False
    assert receiver.is_bot(2) is True
    assert receiver.is_bot(2) is True
    assert calls == [1, 1, 2]
