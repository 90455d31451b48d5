"""Retry policy arithmetic: exponential backoff, cap, jitter bounds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.pinch import RetryPolicy


def test_backoff_without_jitter_doubles_per_retry_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=0.0)
    assert [policy.backoff(n, 0.7) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_full_random_draw_removes_at_most_the_jitter_fraction() -> None:
    policy = RetryPolicy(base_delay=1.0, jitter=0.5)
    assert policy.bounds(2) == (1.0, 2.0)


@given(retry=st.integers(1, 40), rand=st.floats(0.0, 1.0))
def test_backoff_always_lies_within_its_bounds(retry: int, rand: float) -> None:
    policy = RetryPolicy()
    low, high = policy.bounds(retry)
    assert low <= policy.backoff(retry, rand) <= high <= policy.max_delay


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"base_delay": -1}, {"total_timeout": 0}, {"jitter": 1.5}],
)
def test_nonsensical_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_retry_numbers_are_one_based() -> None:
    with pytest.raises(ValueError):
        RetryPolicy().backoff(0, 0.0)
