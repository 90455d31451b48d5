"""Which transport a process uses: ``PINCH_TRANSPORT`` turned into a :class:`Transport`.

``livekit`` (the default) wraps the bot's :class:`~bot.pinch.PinchClient`;
``websocket`` builds a :class:`~bot.pinch.realtime.PinchRealtimeClient` for
``PINCH_WS_BASE_URL``, owned (and closed) by its
:class:`~bot.interpretation.websocket_transport.WebSocketTransport`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from bot.interpretation.livekit_transport import LiveKitTransport
from bot.interpretation.transport import Transport
from bot.interpretation.websocket_transport import WebSocketTransport
from bot.pinch import PinchClient
from bot.pinch.realtime import PinchRealtimeClient
from bot.settings import Settings

_REALTIME_OPTIONS = frozenset({"timeout", "retry", "sleep", "clock", "rand"})


def build_transport(settings: Settings, pinch: PinchClient, *,
                    http_transport: httpx.AsyncBaseTransport | None = None,
                    client_options: Mapping[str, Any] | None = None) -> Transport[Any]:
    """The transport ``settings`` choose. ``http_transport`` carries the WebSocket API's
    session requests (the bot meters them like the LiveKit API's); ``client_options``
    are the Pinch client's keyword options (those the WebSocket client shares apply)."""
    if settings.pinch_transport == "websocket":
        options = {k: v for k, v in (client_options or {}).items() if k in _REALTIME_OPTIONS}
        client = PinchRealtimeClient(settings.pinch_ws_base_url, settings.pinch_api_token,
                                     transport=http_transport, **options)
        return WebSocketTransport(client)
    return LiveKitTransport(pinch)
