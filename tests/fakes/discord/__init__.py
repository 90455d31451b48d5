"""A wire-level fake Discord for end-to-end tests.

Unmodified discord.py connects to it over real sockets: REST and the gateway over
HTTPS/WSS on one loopback port (``server``, ``rest``, ``gateway``), the voice gateway
v8 with DAVE and a UDP voice socket (``voice``, ``voice_member``, ``capture``,
``speech``). The client is pointed at it only through its aiohttp connector
(``tls``). ``world`` and ``model`` hold the state tests assert on.
"""

from tests.fakes.discord.capture import CapturedAudio, CapturedFrame
from tests.fakes.discord.model import InteractionRecord, Message, Permission
from tests.fakes.discord.server import FakeDiscord
from tests.fakes.discord.world import World

__all__ = [
    "CapturedAudio",
    "CapturedFrame",
    "FakeDiscord",
    "InteractionRecord",
    "Message",
    "Permission",
    "World",
]
