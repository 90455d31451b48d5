"""The checks run before the bot connects, and by ``python -m bot check``.

Each check returns a :class:`CheckResult`: a name, whether it passed, one line of
detail and the exit status its failure means. ``python -m bot check`` runs them
all and prints one line each; start-up runs the same functions and stops at the
first failure (:func:`run_preflight`), so the two can never disagree.

Order: libopus (local), the store (local or a database server), then the Pinch
API (remote). The Discord token is checked by logging in, right after.

``STORE_CHECKS`` holds the store's check: it opens the store at
``settings.database()``, which runs the migrations, and, when that fails, reports
``ExitStatus.STORE_UNAVAILABLE`` with the URL shown through
:func:`bot.urls.masked_url`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final

from bot.log_redaction import redact
from bot.net_errors import network_cause
from bot.pinch import (
    AuthenticationError,
    NoCreditsError,
    NotEntitledError,
    PinchClient,
    PinchError,
    PinchTransportError,
    RetryPolicy,
)
from bot.pinch.realtime import PinchRealtimeClient
from bot.settings import Settings
from bot.startup.errors import ExitStatus, StartupError
from bot.startup.opus import load_libopus
from bot.urls import masked_url

#: A short patience: a check that waits as long as a session request would feels hung.
PINCH_CHECK_TIMEOUT_S: Final = 10.0
PINCH_CHECK_RETRY: Final = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=2.0,
                                       total_timeout=20.0)


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    #: The exit status a failure of this check means (unused when ``ok``).
    status: ExitStatus = ExitStatus.OK

    @classmethod
    def passed(cls, name: str, detail: str) -> CheckResult:
        return cls(name, True, detail)

    @classmethod
    def failed(cls, name: str, error: StartupError) -> CheckResult:
        return cls(name, False, error.message, error.status)

    def line(self) -> str:
        """The line ``python -m bot check`` prints for this check."""
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"

    def raise_if_failed(self) -> None:
        if not self.ok:
            raise StartupError(self.status, self.detail)


Check = Callable[[Settings], Awaitable[CheckResult]]


async def check_libopus(settings: Settings) -> CheckResult:
    try:
        loaded = load_libopus(settings.opus_library)
    except StartupError as exc:
        return CheckResult.failed("libopus", exc)
    return CheckResult.passed("libopus", f"loaded {loaded}")


async def check_pinch(settings: Settings, *, retry: RetryPolicy = PINCH_CHECK_RETRY,
                      request_timeout_s: float = PINCH_CHECK_TIMEOUT_S) -> CheckResult:
    """Whether the Pinch API the bot will use (``PINCH_TRANSPORT``) accepts the token.

    LiveKit API (``PINCH_BASE_URL``): creates no session (see
    :meth:`bot.pinch.PinchClient.verify_token`). WebSocket API (``PINCH_WS_BASE_URL``):
    it has no probe that creates nothing, so a session URL is requested and never
    opened (see :meth:`bot.pinch.realtime.PinchRealtimeClient.verify_token`).
    """
    if settings.pinch_transport == "websocket":
        return await _check_realtime(settings, retry, request_timeout_s)
    base = settings.pinch_base_url
    try:
        async with PinchClient(base, settings.pinch_api_token,
                               timeout=request_timeout_s,
                               retry=retry) as client:
            await client.verify_token()
    except PinchError as exc:
        return CheckResult.failed("pinch", pinch_failure(base, exc))
    return CheckResult.passed("pinch", f"{base} accepted the API token (no session created)")


async def _check_realtime(settings: Settings, retry: RetryPolicy,
                          request_timeout_s: float) -> CheckResult:
    base = settings.pinch_ws_base_url
    client = PinchRealtimeClient(base, settings.pinch_api_token, timeout=request_timeout_s,
                                 retry=retry)
    try:
        await client.verify_token()
    except PinchError as exc:
        return CheckResult.failed("pinch", pinch_failure(base, exc, setting="PINCH_WS_BASE_URL"))
    finally:
        await client.aclose()
    return CheckResult.passed("pinch", f"{base} accepted the API token (WebSocket API; a "
                                       "session URL was issued and left unopened)")


def pinch_failure(base_url: str, exc: PinchError, *,
                  setting: str = "PINCH_BASE_URL") -> StartupError:
    """The one-line start-up failure for a failed Pinch check (``setting`` names the URL)."""
    if isinstance(exc, AuthenticationError):
        return StartupError(ExitStatus.PINCH_REFUSED,
                            f"the Pinch API at {base_url} refused the token ({exc}): "
                            "check PINCH_API_TOKEN")
    if isinstance(exc, NoCreditsError):
        return StartupError(ExitStatus.PINCH_REFUSED,
                            f"the Pinch API at {base_url} accepted the token but the account "
                            f"cannot start sessions ({exc}): check the account's credits"
                            + (" and its real-time plan, or PINCH_TRANSPORT"
                               if isinstance(exc, NotEntitledError) else ""))
    if isinstance(exc, PinchTransportError):
        cause = network_cause(exc) or str(exc)
        return StartupError(ExitStatus.PINCH_UNREACHABLE,
                            f"cannot reach the Pinch API at {base_url}: {cause}: "
                            f"check {setting} and the network")
    return StartupError(ExitStatus.PINCH_UNREACHABLE,
                        f"the Pinch API at {base_url} answered unexpectedly ({exc}): "
                        f"check {setting}, or retry later if the service is down")


async def check_store(settings: Settings) -> CheckResult:
    """Open the store (which applies the migrations), ping it, close it."""
    from bot.store import Store  # SQLAlchemy is imported only when a check needs it

    url = settings.database()
    try:
        store = await Store.open(url)
        try:
            await store.ping()
        finally:
            await store.aclose()
    except Exception as exc:
        # SQLAlchemy wraps the driver's error (``orig``) in a multi-line message.
        driver_error = getattr(exc, "orig", None) or exc
        cause = network_cause(exc) or " ".join(
            f"{type(driver_error).__name__}: {driver_error}".split())[:200]
        return CheckResult.failed("store", StartupError(
            ExitStatus.STORE_UNAVAILABLE,
            f"cannot open the store at {masked_url(url)}: {redact(cause)}: "
            "check DATABASE_URL (or DATA_DIR) and that the database is reachable"))
    return CheckResult.passed("store", f"{masked_url(url)} at the newest schema")


STORE_CHECKS: tuple[Check, ...] = (check_store,)


def preflight_checks() -> Sequence[Check]:
    """Every check, in the order they run."""
    return (check_libopus, *STORE_CHECKS, check_pinch)


async def run_checks(settings: Settings) -> list[CheckResult]:
    """All checks, even after a failure (``python -m bot check`` shows everything)."""
    return [await check(settings) for check in preflight_checks()]


async def run_preflight(settings: Settings) -> None:
    """The checks start-up runs; raises :class:`StartupError` at the first failure."""
    for check in preflight_checks():
        (await check(settings)).raise_if_failed()
