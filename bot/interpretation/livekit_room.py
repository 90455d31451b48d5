"""Joining a LiveKit room without ever abandoning ``Room.connect`` halfway.

livekit-ffi (1.2.x) answers a connect with a callback, then waits for the SDK's
"ready for room events" request; if that never comes, because the Python side
cancelled ``connect()`` in between (a timeout, or the owner closing), the FFI
panics a few seconds later and the SDK ends the whole process with SIGTERM.
So the connect runs as its own task that is never cancelled: a timeout or a
cancellation of the caller waits (bounded) for it to finish, then leaves the room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from livekit import rtc

log = logging.getLogger(__name__)

SETTLE_TIMEOUT_S = 20.0
"""How long a cancelled connect may take to finish before we give up on it."""


async def connect_room(
    room: rtc.Room,
    url: str,
    token: str,
    *,
    timeout: float,  # noqa: ASYNC109 (the point is a timeout that never cancels connect)
    options: rtc.RoomOptions | None = None,
) -> None:
    """``room.connect`` with a timeout; on timeout or cancellation the room is left."""
    connecting = asyncio.create_task(
        room.connect(url, token, options or rtc.RoomOptions(auto_subscribe=True)),
        name="livekit-connect",
    )
    try:
        await asyncio.wait_for(asyncio.shield(connecting), timeout)
    except BaseException:
        await _settle_and_leave(room, connecting)
        raise


async def _settle_and_leave(room: rtc.Room, connecting: asyncio.Task[None]) -> None:
    done, _ = await asyncio.wait({connecting}, timeout=SETTLE_TIMEOUT_S)
    if not done:
        log.warning("livekit connect still pending after %.0f s; abandoning it",
                    SETTLE_TIMEOUT_S)
        return
    if connecting.cancelled() or connecting.exception() is not None:
        return
    with contextlib.suppress(Exception):
        await asyncio.wait_for(room.disconnect(), 5)
