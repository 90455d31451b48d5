"""A real transport whose sends take longer than real time: a link starved of its uplink.

:class:`SlowSends` wraps one of Pinch's transports (as
:func:`~tests.support.transports.transport_for` makes them, against the Pinch simulator):
sessions, joins, audio and transcripts are all the real transport's, but each ``send``
of a connection lasts ``factor`` × the frame's duration — the real send, then the rest
of that time — as if the process's event loop, or the way to Pinch, could carry only
``1/factor`` of the audio.

Why not a fault knob in the simulator: a server that reads slowly is hidden from the
bot's sends for tens of seconds by the kernel's and aiohttp's socket buffers, and
LiveKit's ``capture_frame`` is paced by the bot's own audio source, not by the room.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.interpretation.link_config import LinkConfig
from bot.interpretation.transport import Connection, SessionScope, SessionSink, Transport
from bot.pinch.options import SessionOptions
from bot.pinch.transcripts import TranscriptFields


class SlowSends:
    """``transport`` with every connection's sends ``factor`` × slower than real time."""

    def __init__(self, transport: Transport[Any], factor: float) -> None:
        self.inner = transport
        self.factor = factor
        self.name: str = transport.name
        self.trailing_silence_ms: float = transport.trailing_silence_ms
        self.transcript_fields: TranscriptFields = transport.transcript_fields

    def check(self, config: LinkConfig) -> None:
        self.inner.check(config)

    async def create(self, options: SessionOptions) -> Any:
        return await self.inner.create(options)

    def connection(self, credentials: Any, options: SessionOptions, scope: SessionScope,
                   sink: SessionSink, config: LinkConfig) -> Connection:
        inner = self.inner.connection(credentials, options, scope, sink, config)
        return _SlowConnection(inner, self.factor * config.capture_ms / 1000)

    async def aclose(self) -> None:
        """The wrapped transport belongs to whoever made it."""


class _SlowConnection:
    def __init__(self, inner: Connection, send_s: float) -> None:
        self._inner = inner
        self._send_s = send_s
        self.interpreted = inner.interpreted

    @property
    def resting(self) -> bool:
        return self._inner.resting

    def missing(self) -> str:
        return self._inner.missing()

    async def open(self) -> None:
        await self._inner.open()

    async def send(self, frame: bytes) -> None:
        started = time.monotonic()
        await self._inner.send(frame)
        await asyncio.sleep(max(0.0, started + self._send_s - time.monotonic()))

    async def update(self, options: SessionOptions) -> bool:
        return await self._inner.update(options)

    async def aclose(self) -> None:
        await self._inner.aclose()
