"""Retry policy as data, and the pure arithmetic of its backoff.

The client retries only errors whose ``retryable`` flag is set (429, 5xx,
transport failures). The n-th retry waits ``min(max_delay, base_delay * 2**(n-1))``
shrunk by up to ``jitter`` of itself at random, unless the server sent
``Retry-After``, which is then waited exactly. No retry starts if its wait would
end after ``total_timeout`` from the first attempt. :func:`call_with_retries` is
the loop both Pinch clients (LiveKit sessions, WebSocket sessions) run it in.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.pinch.errors import PinchError, RateLimitError

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times and how patiently a session request is retried."""

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    total_timeout: float = 30.0
    jitter: float = 0.5  # fraction of each delay that may be randomly removed

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.total_timeout <= 0:
            raise ValueError("delays must be non-negative and total_timeout positive")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be within [0, 1]")

    def backoff(self, retry_number: int, rand: float) -> float:
        """Seconds to wait before retry ``retry_number`` (1-based); ``rand`` in [0, 1)."""
        if retry_number < 1:
            raise ValueError("retry_number is 1-based")
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry_number - 1))
        return ceiling * (1.0 - self.jitter * min(max(rand, 0.0), 1.0))

    def bounds(self, retry_number: int) -> tuple[float, float]:
        """The smallest and largest wait :meth:`backoff` can return for this retry."""
        return self.backoff(retry_number, 1.0), self.backoff(retry_number, 0.0)


NO_RETRY = RetryPolicy(max_attempts=1)


async def call_with_retries(
    attempt: Callable[[float], Awaitable[T]],
    policy: RetryPolicy,
    *,
    timeout: float,  # noqa: ASYNC109 (a per-attempt bound handed to ``attempt``)
    sleep: Callable[[float], Awaitable[None]],
    clock: Callable[[], float],
    rand: Callable[[], float],
    what: str,
) -> T:
    """``await attempt(seconds)`` until it succeeds or fails for good under ``policy``.

    ``attempt`` gets the time it may take (``timeout``, shortened near the overall
    deadline). Only errors flagged ``retryable`` are retried; a ``Retry-After`` is
    waited exactly. The last error is raised as it is.
    """
    deadline = clock() + policy.total_timeout
    number = 0
    while True:
        number += 1
        remaining = deadline - clock()
        try:
            result = await attempt(min(timeout, max(remaining, 0.001)))
        except PinchError as exc:
            if not exc.retryable or number >= policy.max_attempts:
                raise
            delay = retry_delay(exc, policy, number, rand())
            if clock() + delay >= deadline:
                raise
            log.warning("%s failed (%s); retry %d/%d in %.2f s",
                        what, exc, number, policy.max_attempts - 1, delay)
            await sleep(delay)
            continue
        log.debug("%s answered after %d attempt(s)", what, number)
        return result


def retry_delay(exc: PinchError, policy: RetryPolicy, attempt: int, rand: float) -> float:
    """The wait before retrying after ``exc``: its ``Retry-After``, else the backoff."""
    if isinstance(exc, RateLimitError) and exc.retry_after is not None:
        return exc.retry_after
    return policy.backoff(attempt, rand)
