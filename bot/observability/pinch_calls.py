"""Counting Pinch API calls by outcome, at the HTTP transport (no change to the client).

:class:`PinchClient` takes an ``httpx`` transport; :class:`MeteredTransport` wraps
the real one and reports each attempt's outcome — retries included, since each
one is a call Pinch saw (or did not) — to a callback:

``ok`` (2xx), ``rate_limited`` (429), ``unauthorized`` (401), ``no_credits``
(402/403), ``client_error`` (other 4xx), ``server_error`` (5xx), ``other_status``,
``timeout`` and ``network_error`` (no answer at all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import httpx

OUTCOMES: Final = ("ok", "rate_limited", "unauthorized", "no_credits", "client_error",
                   "server_error", "other_status", "timeout", "network_error")


def outcome_of_status(status: int) -> str:
    if 200 <= status < 300:
        return "ok"
    if status == 429:
        return "rate_limited"
    if status == 401:
        return "unauthorized"
    if status in (402, 403):
        return "no_credits"
    if 400 <= status < 500:
        return "client_error"
    if 500 <= status < 600:
        return "server_error"
    return "other_status"


class MeteredTransport(httpx.AsyncBaseTransport):
    """Delegates to ``inner`` and reports every request's outcome."""

    def __init__(self, inner: httpx.AsyncBaseTransport,
                 on_outcome: Callable[[str], None]) -> None:
        self._inner = inner
        self._on_outcome = on_outcome

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TimeoutException:
            self._on_outcome("timeout")
            raise
        except httpx.TransportError:
            self._on_outcome("network_error")
            raise
        self._on_outcome(outcome_of_status(response.status_code))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
