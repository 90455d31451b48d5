"""Async client for the session request of Pinch's WebSocket API: ``GET /v1/session``.

Flow: the options are checked locally (languages normalised, voice known, context
bounded), each attempt sends them as query parameters with the Bearer key, and the
answer becomes a :class:`RealtimeSession` — a pre-signed ``ws_url`` (a
:class:`~bot.secrets.Secret`: its token is the only credential the socket needs) that
must be opened within ``expires_in`` seconds — or a :class:`~bot.pinch.PinchError`
from the same tree as the LiveKit API's (401 → ``AuthenticationError``, 403 →
``NotEntitledError``, 503 → ``ServerError``, retried under the
:class:`~bot.pinch.RetryPolicy`, by default 1 s then 2 s as the reference suggests).

The context text travels in the URL, so httpx's request log lines (INFO, DEBUG) are
filtered to drop the query string: what a server's members talk about is never
logged. The socket itself is :mod:`bot.interpretation.websocket_transport`'s business.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from bot.log_redaction import release_secret
from bot.pinch import ws_protocol
from bot.pinch.client import Sleep, checked_language, checked_voice, error_from_response
from bot.pinch.errors import (
    BadResponseError,
    ClientClosedError,
    NotEntitledError,
    PinchNetworkError,
    PinchTimeoutError,
)
from bot.pinch.options import SessionOptions
from bot.pinch.retry import RetryPolicy, call_with_retries
from bot.secrets import Secret

log = logging.getLogger(__name__)

DEFAULT_RETRY: Final = RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=2.0,
                                   total_timeout=20.0, jitter=0.25)
"""503 means capacity exhausted: the reference suggests retrying after 1 s, then 2 s."""
_MAX_BODY_BYTES: Final = 64 * 1024
_WS_SCHEMES: Final = ("wss", "ws")


@dataclass(frozen=True, slots=True)
class RealtimeSession:
    """One WebSocket session handed out. ``ws_url`` never prints."""

    session_id: str
    ws_url: Secret
    expires_at: float
    """``time.monotonic()`` after which the URL may no longer be opened."""

    def seconds_left(self, now: float | None = None) -> float:
        return self.expires_at - (time.monotonic() if now is None else now)


class _State(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class PinchRealtimeClient:
    """Requests WebSocket sessions. One per process; close with :meth:`aclose`."""

    def __init__(
        self,
        base_url: str,
        api_token: Secret,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if not isinstance(api_token, Secret):
            raise TypeError("api_token must be a bot.secrets.Secret")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.base_url = base_url.rstrip("/")
        self._url = self.base_url + ws_protocol.SESSION_PATH
        self._token = api_token
        self._timeout = timeout
        self._retry = retry or DEFAULT_RETRY
        self._sleep = sleep
        self._clock = clock
        self._rand = rand
        self._state = _State.OPEN
        self._http = httpx.AsyncClient(transport=transport, follow_redirects=False)
        hide_query_strings_in_httpx_logs()

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry

    async def create_session(self, options: SessionOptions) -> RealtimeSession:
        """A new session's pre-signed URL. Raises a :class:`PinchError` subclass on failure."""
        if self._state is _State.CLOSED:
            raise ClientClosedError("client is closed")
        checked = SessionOptions(
            source_language=checked_language(options.source_language, "source"),
            target_language=checked_language(options.target_language, "target"),
            voice_type=checked_voice(options.voice_type),
            audio_output=options.audio_output,
            context=options.context,
        )
        query = ws_protocol.session_query(checked)

        async def attempt(seconds: float) -> RealtimeSession:
            return await self._attempt(query, seconds)

        session = await call_with_retries(
            attempt, self._retry, timeout=self._timeout, sleep=self._sleep, clock=self._clock,
            rand=self._rand, what="Pinch WebSocket session request")
        log.debug("Pinch WebSocket session %s created", session.session_id)
        return session

    async def verify_token(self) -> None:
        """Check that the API accepts the key: a session URL is requested and never opened
        (it lapses after ``expires_in``). Raises :class:`AuthenticationError` /
        :class:`NotEntitledError` / the usual :class:`PinchError`."""
        session = await self.create_session(SessionOptions("en-US", "es-ES", "male"))
        release_secret(session.ws_url.reveal())

    async def _attempt(self, query: dict[str, str], seconds: float) -> RealtimeSession:
        headers = {"Authorization": f"Bearer {self._token.reveal()}",
                   "Accept": "application/json"}
        started = self._clock()
        try:
            response = await self._http.get(self._url, params=query, headers=headers,
                                            timeout=seconds)
        except httpx.TimeoutException as exc:
            raise PinchTimeoutError(f"no answer within {seconds:.1f} s") from exc
        except httpx.HTTPError as exc:
            raise PinchNetworkError(type(exc).__name__) from exc
        if response.status_code == 403:
            raise NotEntitledError("key not entitled to real-time translation", status=403)
        if not 200 <= response.status_code < 300:
            raise error_from_response(response.status_code, response.headers, response.content,
                                      now=time.time())
        return parse_realtime_session(response.content, requested_at=started)

    async def aclose(self) -> None:
        """Close the connection pool; closing twice is harmless."""
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        await self._http.aclose()


def parse_realtime_session(content: bytes, *, requested_at: float) -> RealtimeSession:
    """Validate a 200 body; the URL's lifetime counts from when it was requested."""
    if len(content) > _MAX_BODY_BYTES:
        raise BadResponseError("session response is too large")
    try:
        body: Any = json.loads(content)
    except (ValueError, RecursionError) as exc:
        raise BadResponseError("session response is not JSON") from exc
    if not isinstance(body, dict):
        raise BadResponseError("session response is not a JSON object")
    session_id = _text_field(body, "session_id")
    ws_url = _text_field(body, "ws_url")
    if urlsplit(ws_url).scheme not in _WS_SCHEMES or not urlsplit(ws_url).netloc:
        raise BadResponseError("session ws_url is not a ws(s) URL")
    expires_in = ws_protocol.valid_expires_in(body.get("expires_in"))
    if expires_in is None:
        raise BadResponseError("session response has no usable expires_in")
    return RealtimeSession(session_id=session_id.strip(), ws_url=Secret(ws_url),
                           expires_at=requested_at + expires_in)


def _text_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadResponseError(f"session response field {name!r} missing or not a string")
    return value


class _QueryHidingFilter(logging.Filter):
    """Drops query strings from httpx's request lines: the context text must not be logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) and a.query
                                                  for a in record.args):
            record.args = tuple(a.copy_with(query=None) if isinstance(a, httpx.URL) else a
                                for a in record.args)
        return True


_FILTER: Final = _QueryHidingFilter()


def hide_query_strings_in_httpx_logs() -> None:
    """Install the filter on httpx's logger (once; repeated calls are harmless)."""
    logger = logging.getLogger("httpx")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
