"""Async client for the Pinch REST API: one ``POST /api/beta1/session`` with retries.

Flow: languages and voice are normalised locally (nothing unsupported is sent),
then each attempt posts the snake_case body with the Bearer token, and
:func:`classify_response` turns the answer into a :class:`PinchSession` or a
:class:`~bot.pinch.errors.PinchError`. Retryable errors are retried under the
:class:`~bot.pinch.retry.RetryPolicy`. httpx exceptions are translated here and
nowhere else. The token is revealed only into the request header, which httpx
does not log; nothing here logs headers or bodies.

:meth:`PinchClient.verify_token` checks the token without opening a session: the
API has no endpoint for that, so it posts a session request for a target language
no deployment supports and reads the refusal (see ``docs/pinch-token-check.md``).
"""

from __future__ import annotations

import asyncio
import email.utils
import enum
import json
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Final, Self

import httpx

from bot.languages import UnknownLanguage, normalize_language
from bot.pinch.errors import (
    AuthenticationError,
    BadResponseError,
    ClientClosedError,
    InvalidLanguageError,
    InvalidRequestError,
    NoCreditsError,
    PinchError,
    PinchNetworkError,
    PinchTimeoutError,
    RateLimitError,
    ServerError,
    UnexpectedStatusError,
)
from bot.pinch.retry import RetryPolicy, call_with_retries
from bot.pinch.session import PinchSession, parse_session
from bot.secrets import Secret

log = logging.getLogger(__name__)

SESSION_PATH: Final = "/api/beta1/session"
#: The reference's own example of an unsupported language: a request for it is
#: refused with 400 ``invalid_language`` after the token was accepted, so it
#: checks the token without creating (or billing) a session.
PROBE_TARGET_LANGUAGE: Final = "xx-XX"
VOICE_TYPES: Final = ("clone", "female", "male")
DEFAULT_VOICE: Final = "clone"
_MAX_BODY_BYTES: Final = 64 * 1024  # a session answer is ~1 KB; more is not Pinch

Sleep = Callable[[float], Awaitable[None]]


class _State(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class PinchClient:
    """Creates Pinch translation sessions. One per process; close with :meth:`aclose`.

    ``sleep``, ``clock`` (monotonic seconds), ``wall_clock`` (unix seconds) and
    ``rand`` are injectable so retry behaviour can be tested without waiting.
    """

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
        wall_clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if not isinstance(api_token, Secret):
            raise TypeError("api_token must be a bot.secrets.Secret")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._url = base_url.rstrip("/") + SESSION_PATH
        self._token = api_token
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._rand = rand
        self._state = _State.OPEN
        self._http = httpx.AsyncClient(transport=transport, follow_redirects=False)

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry

    async def create_session(
        self,
        source_language: str,
        target_language: str,
        voice_type: str = DEFAULT_VOICE,
    ) -> PinchSession:
        """A new translation room. Raises a :class:`PinchError` subclass on failure."""
        if self._state is _State.CLOSED:
            raise ClientClosedError("client is closed")
        body = {
            "source_language": checked_language(source_language, "source"),
            "target_language": checked_language(target_language, "target"),
            "voice_type": checked_voice(voice_type),
        }
        session = await self._post_with_retries(body)
        log.debug("Pinch session %s created", session.room_name)
        return session

    async def verify_token(self) -> None:
        """Check that the API accepts the token, without creating a session.

        Posts a session request whose target language is :data:`PROBE_TARGET_LANGUAGE`;
        the API authenticates before it validates the body, so its 400 refusal means
        the token is good. Raises :class:`~bot.pinch.errors.AuthenticationError` for
        a refused token and the usual :class:`PinchError` for anything else (retryable
        failures are retried first).
        """
        if self._state is _State.CLOSED:
            raise ClientClosedError("client is closed")
        body = {
            "source_language": "en-US",
            "target_language": PROBE_TARGET_LANGUAGE,
            "voice_type": DEFAULT_VOICE,
        }
        try:
            session = await self._post_with_retries(body)
        except InvalidRequestError as exc:
            if exc.status in (400, 422):
                return  # refused for its body, so the token passed authentication
            raise
        # The service opened a session for a language it does not list: the token
        # works; the room is never joined and expires with its token.
        log.warning("the Pinch token check opened session %s (the API accepted %s)",
                    session.room_name, PROBE_TARGET_LANGUAGE)

    async def _post_with_retries(self, body: dict[str, str]) -> PinchSession:
        async def attempt(seconds: float) -> PinchSession:
            return await self._attempt(body, seconds)

        return await call_with_retries(
            attempt, self._retry, timeout=self._timeout, sleep=self._sleep, clock=self._clock,
            rand=self._rand, what="Pinch session request")

    async def _attempt(self, body: dict[str, str], per_attempt_s: float) -> PinchSession:
        headers = {
            "Authorization": f"Bearer {self._token.reveal()}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        try:
            response = await self._http.post(
                self._url, content=json.dumps(body).encode(), headers=headers, timeout=per_attempt_s
            )
        except httpx.TimeoutException as exc:
            raise PinchTimeoutError(f"no answer within {per_attempt_s:.1f} s") from exc
        except httpx.HTTPError as exc:
            raise PinchNetworkError(type(exc).__name__) from exc
        return classify_response(
            response.status_code,
            response.headers,
            response.content,
            now=self._wall_clock(),
        )

    async def aclose(self) -> None:
        """Close the connection pool; closing twice is harmless."""
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def checked_language(code: str, role: str) -> str:
    """``code`` normalised, or :class:`InvalidLanguageError` (nothing unsupported is sent)."""
    try:
        return normalize_language(code)
    except UnknownLanguage as exc:
        raise InvalidLanguageError(
            f"unsupported {role} language", code="invalid_language", user_message=str(exc)
        ) from exc


def checked_voice(voice_type: str) -> str:
    """``voice_type`` lower-cased, or :class:`InvalidRequestError`."""
    voice = voice_type.strip().lower() if isinstance(voice_type, str) else ""
    if voice not in VOICE_TYPES:
        raise InvalidRequestError(
            "unsupported voice_type",
            user_message=f"The voice must be one of: {', '.join(VOICE_TYPES)}.",
        )
    return voice


def classify_response(
    status: int, headers: httpx.Headers | dict[str, str], content: bytes, *, now: float
) -> PinchSession:
    """The session in a 2xx answer, or the matching :class:`PinchError` raised."""
    if 200 <= status < 300:
        if len(content) > _MAX_BODY_BYTES:
            raise BadResponseError("session response is too large", status=status)
        try:
            body = json.loads(content)
        except (ValueError, RecursionError) as exc:
            raise BadResponseError("session response is not JSON", status=status) from exc
        return parse_session(body, now=now)
    raise error_from_response(status, headers, content, now=now)


def error_from_response(
    status: int, headers: httpx.Headers | dict[str, str], content: bytes, *, now: float
) -> PinchError:
    """The :class:`PinchError` for a non-2xx answer of either Pinch API (both error shapes)."""
    code, message = _error_body(content)
    return _error_for(status, code, message, httpx.Headers(headers), now)


def _error_body(content: bytes) -> tuple[str | None, str]:
    """``(code, message)`` from either documented error shape, or a note on the body."""
    try:
        body: Any = json.loads(content[:_MAX_BODY_BYTES])
    except (ValueError, RecursionError):
        return None, "non-JSON error body" if content.strip() else "empty error body"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("code")
        message = error.get("message")
        return (
            code if isinstance(code, str) else None,
            message if isinstance(message, str) else "",
        )
    if isinstance(error, str):
        return None, error
    return None, "error body without an error field"


def _error_for(
    status: int, code: str | None, message: str, headers: httpx.Headers, now: float
) -> PinchError:
    if code == "invalid_language":
        return InvalidLanguageError(message, status=status, code=code)
    if code == "invalid_token" or status == 401:
        return AuthenticationError(message, status=status, code=code)
    if code == "rate_limit_exceeded" or status == 429:
        return RateLimitError(
            message, status=status, code=code,
            retry_after=parse_retry_after(headers.get("retry-after"), now),
        )
    if code == "internal_error" or 500 <= status < 600:
        return ServerError(message, status=status, code=code)
    if status in (402, 403):
        return NoCreditsError(message, status=status, code=code)
    if status in (400, 422):
        return InvalidRequestError(message, status=status, code=code)
    return UnexpectedStatusError(message, status=status, code=code)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - now
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)
