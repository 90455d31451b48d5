"""Pointing an unmodified aiohttp/discord.py client at the fake: TLS and name resolution.

The fake serves HTTPS and WSS on one loopback port with a throwaway certificate from
a ``trustme`` CA. The client trusts that CA and resolves every host name to the
fake's port, so discord.py's hard-coded URLs (``https://discord.com/api/v10``,
``wss://gateway.discord.gg``, ``wss://{endpoint}/?v=8``) all land here.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

import aiohttp
import trustme
from aiohttp.abc import AbstractResolver, ResolveResult

#: Host names the certificate covers; the fake hands out only these.
API_HOST = "discord.com"
GATEWAY_HOST = "gateway.discord.gg"
RESUME_GATEWAY_HOST = "gateway-us-east1-b.discord.gg"
VOICE_HOST = "fake-voice-1.discord.media"
CERT_HOSTS = (API_HOST, GATEWAY_HOST, RESUME_GATEWAY_HOST, VOICE_HOST, "*.discord.gg",
              "*.discord.media", "localhost", "127.0.0.1")


@dataclass(frozen=True)
class FakeTls:
    """A CA and the server certificate it signed, as ready-made SSL contexts."""

    ca: trustme.CA
    server_context: ssl.SSLContext

    def client_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        self.ca.configure_trust(ctx)
        return ctx


def make_tls() -> FakeTls:
    ca = trustme.CA()
    cert = ca.issue_cert(*CERT_HOSTS)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    return FakeTls(ca=ca, server_context=server_ctx)


class LoopbackResolver(AbstractResolver):
    """Resolves every name to ``127.0.0.1:port`` (the fake's one TLS port)."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [{
            "hostname": host,
            "host": "127.0.0.1",
            "port": self.port,
            "family": socket.AF_INET,
            "proto": 0,
            "flags": socket.AI_NUMERICHOST,
        }]

    async def close(self) -> None:
        return None


def make_connector(tls: FakeTls, port: int) -> aiohttp.TCPConnector:
    """An aiohttp connector for discord.py's ``Client(connector=...)``.

    Must be called inside the running event loop that will use it.
    """
    return aiohttp.TCPConnector(ssl=tls.client_context(), resolver=LoopbackResolver(port),
                                limit=0)
