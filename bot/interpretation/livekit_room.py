"""Joining and leaving a LiveKit room without ever abandoning ``Room.connect`` halfway.

livekit-ffi (1.2.x) answers a connect with a callback, then waits for the SDK's
"ready for room events" request; if that never comes, because the Python side
cancelled ``connect()`` in between (a timeout, or the owner closing), the FFI
panics a few seconds later and the SDK ends the whole process with SIGTERM.
So the connect runs as its own task that is never cancelled: a timeout or a
cancellation of the caller waits (bounded) for it to finish, then leaves the room.
A connect that is still pending after that bound is not forgotten: when it
completes, however late, the room it joined is left, so no participant is
orphaned in a room nobody reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from livekit import rtc

log = logging.getLogger(__name__)

SETTLE_TIMEOUT_S = 20.0
"""How long a cancelled connect may take to finish before the caller stops waiting."""
DISCONNECT_TIMEOUT_S = 5.0

_late_leaves: set[asyncio.Task[None]] = set()
"""Disconnects of rooms whose connect completed after the caller gave up (kept alive)."""


async def connect_room(
    room: rtc.Room,
    url: str,
    token: str,
    *,
    timeout: float,  # noqa: ASYNC109 (the point is a timeout that never cancels connect)
    options: rtc.RoomOptions | None = None,
    settle_timeout: float = SETTLE_TIMEOUT_S,
) -> None:
    """``room.connect`` with a timeout; on timeout or cancellation the room is left."""
    connecting = asyncio.create_task(
        room.connect(url, token, options or rtc.RoomOptions(auto_subscribe=True)),
        name="livekit-connect",
    )
    try:
        async with asyncio.timeout(timeout):
            await asyncio.shield(connecting)
    except BaseException:
        await _settle_and_leave(room, connecting, settle_timeout)
        raise


async def leave_room(room: rtc.Room) -> None:
    """Disconnect ``room``, bounded; errors are logged, never raised."""
    try:
        async with asyncio.timeout(DISCONNECT_TIMEOUT_S):
            await room.disconnect()
    except Exception as exc:
        log.warning("leaving LiveKit room %s failed: %r", _room_name(room), exc)


async def _settle_and_leave(room: rtc.Room, connecting: asyncio.Task[None],
                            settle_timeout: float) -> None:
    done, _ = await asyncio.wait({connecting}, timeout=settle_timeout)
    if not done:
        log.warning("livekit connect still pending after %.0f s; leaving when it completes",
                    settle_timeout)
        connecting.add_done_callback(lambda task: _leave_when_connected(room, task))
        return
    if connecting.cancelled() or connecting.exception() is not None:
        return
    await leave_room(room)


def _leave_when_connected(room: rtc.Room, connecting: asyncio.Task[None]) -> None:
    if connecting.cancelled() or connecting.exception() is not None:
        return
    with contextlib.suppress(RuntimeError):  # the loop is closing: nothing left to leave
        task = asyncio.get_running_loop().create_task(leave_room(room), name="livekit-late-leave")
        _late_leaves.add(task)
        task.add_done_callback(_late_leaves.discard)


def _room_name(room: rtc.Room) -> str:
    with contextlib.suppress(Exception):
        return room.name
    return "?"
