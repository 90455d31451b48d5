"""Engine counters read at scrape time never go down when their objects go away."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.observability.engine import (
    DROPS,
    FRAMES,
    CounterLedger,
    Key,
    read_receiver,
    read_router_drops,
)
from bot.voice.events import ReceiveStats
from bot.voice.rtp import DropReason


@dataclass
class Source:
    frames: int = 0

    def read(self) -> Mapping[Key, float]:
        return {(FRAMES, ("to_pinch",)): self.frames}


def test_a_retired_source_keeps_its_final_count() -> None:
    ledger = CounterLedger()
    a, b = Source(10), Source(5)
    ledger.observe([(a, a.read), (b, b.read)])
    a.frames = 25  # counted after the last observation, before it went away
    ledger.observe([(b, b.read)])
    assert ledger.totals()[(FRAMES, ("to_pinch",))] == 30
    assert ledger.tracked == 1


def test_totals_are_monotonic_as_sources_come_and_go() -> None:
    ledger = CounterLedger()
    seen = []
    expected = 0
    live: list[Source] = []
    for step in range(20):
        if step % 3 == 0:
            live.append(Source())
        if step % 5 == 4:
            live.pop(0)
        for s in live:
            s.frames += 7
            expected += 7
        ledger.observe([(s, s.read) for s in live])
        seen.append(ledger.totals()[(FRAMES, ("to_pinch",))])
    assert seen == sorted(seen)
    assert seen[-1] == expected


def test_receive_drops_are_labelled_with_the_issue_categories() -> None:
    stats = ReceiveStats()
    stats.drop(DropReason.DAVE_NO_CRYPTOR)
    stats.drop(DropReason.LATE)
    stats.drop(DropReason.TRANSPORT_AUTH)
    stats.drop(DropReason.QUEUE_FULL)
    stats.frames_decoded = 3
    read = read_receiver(stats)
    assert read[(DROPS, ("receive", "dave", "dave_no_cryptor"))] == 1
    assert read[(DROPS, ("receive", "jitter", "late"))] == 1
    assert read[(DROPS, ("receive", "decrypt", "transport_auth"))] == 1
    assert read[(DROPS, ("receive", "queue", "queue_full"))] == 1
    assert read[(FRAMES, ("from_discord",))] == 3


def test_the_routers_silence_drops_are_the_gate() -> None:
    read = read_router_drops({"silence": 4, "excluded": 2})
    assert read == {(DROPS, ("router", "gate", "silence")): 4,
                    (DROPS, ("router", "excluded", "excluded")): 2}
