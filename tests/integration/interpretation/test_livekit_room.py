"""Joining a room survives being cancelled or timing out mid-connect.

Abandoning ``Room.connect`` halfway makes livekit-ffi panic and SIGTERM the
process seconds later; ``connect_room`` lets the connect finish, then leaves.
"""

from __future__ import annotations

import asyncio

import pytest
from livekit import api, rtc

from bot.interpretation.livekit_room import connect_room
from tests.support.livekit_server import LiveKitServer


async def _participants(server: LiveKitServer, room: str) -> list[str]:
    async with api.LiveKitAPI(server.http_url, server.api_key, server.api_secret) as lk:
        try:
            listed = await lk.room.list_participants(api.ListParticipantsRequest(room=room))
        except api.TwirpError:
            return []
        return [p.identity for p in listed.participants]


async def test_cancelling_a_connect_leaves_the_room_once_it_completes(
    livekit_server: LiveKitServer,
) -> None:
    room = rtc.Room()
    joining = asyncio.create_task(connect_room(
        room, livekit_server.url, livekit_server.token("cancelled", "cancel-room"), timeout=15))
    await asyncio.sleep(0.01)
    joining.cancel()
    with pytest.raises(asyncio.CancelledError):
        await joining
    assert not room.isconnected()
    assert "cancelled" not in await _participants(livekit_server, "cancel-room")


async def test_connect_room_joins_within_the_timeout(livekit_server: LiveKitServer) -> None:
    room = rtc.Room()
    await connect_room(room, livekit_server.url, livekit_server.token("ok", "ok-room"),
                       timeout=15)
    try:
        assert room.isconnected()
        assert "ok" in await _participants(livekit_server, "ok-room")
    finally:
        await room.disconnect()


async def test_unreachable_server_raises_the_connect_error() -> None:
    room = rtc.Room()
    with pytest.raises((rtc.ConnectError, TimeoutError)):
        await connect_room(room, "ws://127.0.0.1:9", "x.y.z", timeout=5,
                           options=rtc.RoomOptions(connect_timeout=1))
    assert not room.isconnected()


class SlowJoinRoom(rtc.Room):
    """A room whose connect starts late: a server slow to answer, seen from our side."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self._delay = delay
        self.joined = asyncio.Event()

    async def connect(self, url: str, token: str,
                      options: rtc.RoomOptions | None = None) -> None:
        await asyncio.sleep(self._delay)
        await super().connect(url, token, options or rtc.RoomOptions())
        self.joined.set()


async def test_a_connect_abandoned_after_its_timeout_leaves_the_room_when_it_completes_late(
    livekit_server: LiveKitServer,
) -> None:
    room = SlowJoinRoom(delay=1.0)
    with pytest.raises(TimeoutError):
        await connect_room(room, livekit_server.url, livekit_server.token("late", "late-room"),
                           timeout=0.1, settle_timeout=0.2)
    # The connect completes after the caller gave up on it: the room is left then.
    async with asyncio.timeout(10):
        await room.joined.wait()
    for _ in range(100):
        await asyncio.sleep(0.1)
        if room.connection_state == rtc.ConnectionState.CONN_DISCONNECTED and \
                "late" not in await _participants(livekit_server, "late-room"):
            break
    assert not room.isconnected()
    assert "late" not in await _participants(livekit_server, "late-room")
