"""The WebSocket uplink goes no faster than real time, with a bounded lead."""

from __future__ import annotations

import pytest

from bot.interpretation.websocket_transport import RealtimePacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_goes_out_at_once_up_to_the_lead_then_at_real_time() -> None:
    clock = Clock()
    pacer = RealtimePacer(0.02, 0.1, clock)
    delays = [pacer.delay() for _ in range(8)]
    assert delays[:6] == [0.0] * 6  # 100 ms of lead: five frames ahead, plus the current
    assert delays[6] == pytest.approx(0.02)
    assert delays[7] == pytest.approx(0.04)


def test_after_a_pause_it_starts_afresh_instead_of_bursting() -> None:
    clock = Clock()
    pacer = RealtimePacer(0.02, 0.0, clock)
    pacer.delay()
    clock.now += 5.0  # nothing sent for five seconds
    assert pacer.delay() == 0.0
    assert pacer.delay() == pytest.approx(0.02)
