"""Short, human causes of failed connections, for one-line messages.

A connection failure reaches us wrapped several times (httpx or aiohttp around
an ``OSError`` around a ``socket.gaierror`` ...). :func:`network_cause` walks the
``__cause__``/``__context__`` chain and names the most telling link: TLS first,
then DNS, then the socket error, then a timeout. Used by the Discord and Pinch
start-up messages so both speak the same words.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from collections.abc import Iterator
from typing import Final

_MAX_CHAIN: Final = 16


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` then its causes (explicit first, else the implicit context)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < _MAX_CHAIN:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def network_cause(exc: BaseException) -> str | None:
    """``"connection refused"``, ``"DNS lookup failed (...)"``, ... or ``None``."""
    chain = list(exception_chain(exc))
    for link in chain:
        if isinstance(link, ssl.SSLCertVerificationError):
            # aiohttp's certificate error subclasses this without its attributes.
            detail = getattr(link, "verify_message", None) or getattr(link, "reason", None)
            return f"TLS certificate not trusted ({detail or link})"
    for link in chain:
        if isinstance(link, ssl.SSLError):
            return f"TLS handshake failed ({getattr(link, 'reason', None) or link})"
    for link in chain:
        if isinstance(link, socket.gaierror):
            return f"DNS lookup failed ({link.strerror or link})"
    for link in chain:
        if isinstance(link, ConnectionRefusedError):
            return "connection refused"
        if isinstance(link, ConnectionResetError):
            return "connection reset by the peer"
    for link in chain:
        if isinstance(link, (TimeoutError, asyncio.TimeoutError)):
            return "timed out"
        if isinstance(link, OSError) and isinstance(link.errno, int) and link.errno > 0:
            return os.strerror(link.errno).lower()
    return None
