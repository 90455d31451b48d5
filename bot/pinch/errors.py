"""Every way a Pinch session request can fail, as one exception tree.

::

    PinchError                      .user_message, .retryable, .status, .code
    ├── PinchRequestError           the API refused this request (4xx)
    │   ├── InvalidRequestError     400: the body failed validation
    │   │   └── InvalidLanguageError    invalid_language (also raised locally)
    │   ├── AuthenticationError     401 / invalid_token
    │   ├── NoCreditsError          402 / 403: the account cannot start sessions
    │   │   └── NotEntitledError    403 on the WebSocket API: no real-time translation
    │   └── RateLimitError          429 / rate_limit_exceeded (retryable, .retry_after)
    ├── ServerError                 5xx / internal_error (retryable)
    ├── UnexpectedStatusError       any other status
    ├── BadResponseError            200 whose body is not JSON, misses a field, or a bad JWT
    ├── PinchTransportError         the request never got an answer (retryable)
    │   ├── PinchTimeoutError
    │   └── PinchNetworkError
    └── ClientClosedError           the client was used after aclose()

``str(error)`` is for logs: status, code and the server's message (redacted and
truncated). ``user_message`` is one short sentence safe to show in Discord.
Neither ever contains the API token or a session token. Foreign exceptions
(httpx, json) are translated in :mod:`bot.pinch.client` only, kept as ``__cause__``.
"""

from __future__ import annotations

from typing import ClassVar, Final

from bot.log_redaction import redact

_MAX_DETAIL: Final = 200


class PinchError(Exception):
    """Root of every Pinch client failure."""

    default_user_message: ClassVar[str] = "The translation service failed. Please try again."
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        detail: str = "",
        *,
        status: int | None = None,
        code: str | None = None,
        user_message: str | None = None,
    ) -> None:
        self.detail = redact(detail)[:_MAX_DETAIL]
        self.status = status
        self.code = code
        self.user_message = user_message or self.default_user_message
        parts = [f"HTTP {status}" if status is not None else "", code or "", self.detail]
        super().__init__(": ".join(p for p in parts if p) or type(self).__name__)


class PinchRequestError(PinchError):
    """The API answered with a 4xx: the same request will fail again."""

    default_user_message = "The translation service refused the request."


class InvalidRequestError(PinchRequestError):
    default_user_message = "The translation service rejected the session settings."


class InvalidLanguageError(InvalidRequestError):
    default_user_message = "That language is not supported by the translation service."


class AuthenticationError(PinchRequestError):
    default_user_message = (
        "The bot's translation service token was refused; an administrator must fix it."
    )


class NoCreditsError(PinchRequestError):
    default_user_message = "The translation service account has no credits left."


class NotEntitledError(NoCreditsError):
    """The key is valid but its account may not use real-time translation (WebSocket API)."""

    default_user_message = (
        "The translation service account is not entitled to real-time translation."
    )


class RateLimitError(PinchRequestError):
    default_user_message = "The translation service is busy. Please try again in a moment."
    retryable = True

    def __init__(
        self,
        detail: str = "",
        *,
        status: int | None = 429,
        code: str | None = None,
        user_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail, status=status, code=code, user_message=user_message)
        self.retry_after = retry_after


class ServerError(PinchError):
    default_user_message = "The translation service had an internal error. Please try again."
    retryable = True


class UnexpectedStatusError(PinchError):
    default_user_message = "The translation service answered unexpectedly."


class BadResponseError(PinchError):
    default_user_message = "The translation service sent an invalid answer."


class PinchTransportError(PinchError):
    default_user_message = "The translation service could not be reached. Please try again."
    retryable = True


class PinchTimeoutError(PinchTransportError):
    default_user_message = "The translation service took too long to answer. Please try again."


class PinchNetworkError(PinchTransportError):
    pass


class ClientClosedError(PinchError):
    default_user_message = "The bot is shutting down."
