"""A member whose link fails is retried with backoff, once reported per episode, and
never retried for a failure that retrying cannot fix until their settings change."""

from __future__ import annotations

import asyncio

import numpy as np

from bot.interpretation.router import (
    LinkCapReached,
    LinkFailed,
    RouterConfig,
    RouterEvent,
    SpeakerRouter,
)
from bot.pinch import AuthenticationError, ServerError
from tests.support.signals import tone

SPEECH = np.repeat(tone(300, 0.02, amplitude=0.3), 2).astype(np.int16).tobytes()


class FailingLink:
    """A link whose start raises ``error`` (what a Pinch or LiveKit failure looks like)."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error
        self.closed = False
        self.frames = 0

    def push_frame(self, pcm_48k_stereo: bytes) -> None:
        self.frames += 1

    def end_of_speech(self, pad_ms: float = 0.0) -> None:
        pass

    async def start(self) -> None:
        if self.error is not None:
            raise self.error

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109
        pass

    async def aclose(self) -> None:
        self.closed = True


class Clock:
    """Monotonic time, and what the next link's start meets (the service's state)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.next_error: BaseException | None = None

    def __call__(self) -> float:
        return self.now


def _router(error: BaseException | None, clock: Clock, **config: float):
    made: list[FailingLink] = []
    events: list[RouterEvent] = []
    clock.next_error = error

    def make(key: int) -> FailingLink:
        made.append(FailingLink(clock.next_error))
        return made[-1]

    router = SpeakerRouter(RouterConfig(**config), make,  # type: ignore[arg-type]
                           is_excluded=lambda m: False, on_event=events.append,
                           monotonic=clock)
    return router, made, events


async def _talk(router: SpeakerRouter, clock: Clock, seconds: float, member: int = 1) -> None:
    """The member keeps talking: a frame every 20 ms of (fake) time."""
    for _ in range(round(seconds / 0.02)):
        router.on_frame(member, SPEECH)
        clock.now += 0.02
        await asyncio.sleep(0)


async def test_a_member_whose_link_keeps_failing_is_retried_with_capped_backoff() -> None:
    clock = Clock()
    router, made, _ = _router(ServerError("down"), clock, retry_base_s=1.0, retry_max_s=4.0)
    await _talk(router, clock, 20.0)
    # Backoff 1, 2, 4, 4, 4 ... (jittered to half or more): at most 1 + 20/0.5-ish, in
    # practice a handful, never one per frame (1000 frames were spoken).
    assert 3 <= len(made) <= 12
    assert router.dropped["link_backoff"] > 900
    await router.aclose()


async def test_each_failed_link_is_closed_so_nothing_is_left_behind_per_try() -> None:
    clock = Clock()
    router, made, _ = _router(ServerError("down"), clock, retry_base_s=0.5, retry_max_s=1.0)
    await _talk(router, clock, 5.0)
    assert len(made) > 2
    assert all(link.closed for link in made)
    assert router.links == {}
    await router.aclose()


async def test_one_event_is_first_of_its_episode_however_many_attempts_fail() -> None:
    clock = Clock()
    router, made, events = _router(ServerError("down"), clock, retry_base_s=0.5)
    await _talk(router, clock, 10.0)
    failures = [e for e in events if isinstance(e, LinkFailed)]
    assert len(failures) == len(made) > 1
    assert [e.first_in_episode for e in failures] == [True] + [False] * (len(failures) - 1)
    await router.aclose()


async def test_a_failure_retrying_cannot_fix_stops_the_attempts_for_that_member() -> None:
    clock = Clock()
    router, made, events = _router(AuthenticationError("refused"), clock)
    await _talk(router, clock, 30.0)
    assert len(made) == 1
    (failed,) = events
    assert isinstance(failed, LinkFailed)
    assert failed.retry_in is None
    assert router.dropped["link_failed"] > 1000
    await router.aclose()


async def test_a_member_blocked_by_a_failure_is_tried_again_after_their_settings_change() -> None:
    clock = Clock()
    router, made, _ = _router(AuthenticationError("refused"), clock)
    await _talk(router, clock, 1.0)
    router.reopen(1)
    await _talk(router, clock, 1.0)
    assert len(made) == 2
    await router.aclose()


async def test_other_members_are_not_held_back_by_one_members_failures() -> None:
    clock = Clock()
    router, made, _ = _router(AuthenticationError("refused"), clock)
    await _talk(router, clock, 1.0, member=1)
    await _talk(router, clock, 0.1, member=2)
    assert len(made) == 2
    await router.aclose()


async def test_a_link_that_starts_ends_the_episode() -> None:
    clock = Clock()
    router, made, _events = _router(ServerError("down"), clock, retry_base_s=0.5)
    await _talk(router, clock, 0.1)
    assert router.failure_of(1) == (1, False)
    clock.next_error = None
    made_before = len(made)
    clock.now += 5
    await _talk(router, clock, 0.1)
    assert len(made) == made_before + 1
    assert router.failure_of(1) is None
    await router.aclose()


async def test_the_link_cap_is_reported_once_per_run() -> None:
    clock = Clock()
    router, _made, events = _router(None, clock, max_links=1)
    await _talk(router, clock, 0.2, member=1)
    await _talk(router, clock, 1.0, member=2)
    await _talk(router, clock, 1.0, member=3)
    assert events == [LinkCapReached(key=2, cap=1)]
    assert router.dropped["link_cap"] == 100
    await router.aclose()


async def test_a_started_link_that_fails_for_good_blocks_its_member() -> None:
    clock = Clock()
    router, made, events = _router(None, clock)
    await _talk(router, clock, 0.1)
    router.link_failed(1, AuthenticationError("revoked"))
    await _talk(router, clock, 2.0)
    assert len(made) == 1
    assert made[0].closed or await _eventually_closed(made[0])
    assert isinstance(events[-1], LinkFailed)
    assert events[-1].retry_in is None
    await router.aclose()


async def _eventually_closed(link: FailingLink) -> bool:
    for _ in range(10):
        await asyncio.sleep(0)
        if link.closed:
            return True
    return link.closed


def test_retry_delays_double_up_to_the_cap_with_jitter() -> None:
    config = RouterConfig(retry_base_s=1.0, retry_max_s=8.0)
    assert [config.retry_delay(n, rand=lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [
        1.0, 2.0, 4.0, 8.0, 8.0]
    assert config.retry_delay(3, rand=lambda: 0.0) == 2.0
