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
