"""Retry policy as data, and the pure arithmetic of its backoff.

The client retries only errors whose ``retryable`` flag is set (429, 5xx,
transport failures). The n-th retry waits ``min(max_delay, base_delay * 2**(n-1))``
shrunk by up to ``jitter`` of itself at random, unless the server sent
``Retry-After``, which is then waited exactly. No retry starts if its wait would
end after ``total_timeout`` from the first attempt.
"""

from __future__ import annotations

from dataclasses import dataclass


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
