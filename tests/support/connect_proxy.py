"""A minimal HTTP CONNECT proxy on loopback that tunnels every request to one port.

How the start-up tests point a real ``python -m bot`` process at the fake Discord
without touching production code paths: the process gets ``DISCORD_PROXY`` (which
discord.py supports natively, ``Client(proxy=...)``) set to this proxy, and trusts
the fake's CA through OpenSSL's standard ``SSL_CERT_FILE``. The bot still opens
TLS to ``discord.com`` and ``gateway.discord.gg`` and verifies the certificate
for those names; the proxy only carries the bytes to the fake's one TLS port.

Owns its server and one task per tunnel; :meth:`aclose` stops and awaits them.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final, Self

_MAX_HEAD: Final = 16 * 1024
_HEAD_TIMEOUT_S: Final = 5.0
_CHUNK: Final = 64 * 1024


class ConnectProxy:
    """``async with ConnectProxy(target_port) as proxy``: ``proxy.url`` for DISCORD_PROXY."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._tunnels: set[asyncio.Task[None]] = set()
        #: ``host:port`` of every CONNECT request, in order.
        self.requests: list[str] = []
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tunnels):
            task.cancel()
        await asyncio.gather(*self._tunnels, return_exceptions=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tunnels.add(task)
        try:
            await self._tunnel(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                TimeoutError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            if task is not None:
                self._tunnels.discard(task)

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with asyncio.timeout(_HEAD_TIMEOUT_S):
            head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > _MAX_HEAD:
            return
        method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        if method != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        self.requests.append(target)
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        try:
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            up_writer.close()
            with contextlib.suppress(ConnectionError):
                await up_writer.wait_closed()


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while data := await src.read(_CHUNK):
            dst.write(data)
            await dst.drain()
    finally:
        if dst.can_write_eof():
            with contextlib.suppress(OSError):
                dst.write_eof()
