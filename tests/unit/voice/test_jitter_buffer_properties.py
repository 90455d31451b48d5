"""Property: whatever the network does within the buffer window, playout stays whole.

Random loss, duplication and reordering (no packet overtaken by one ``depth`` or
more places behind it), starting anywhere in the 16-bit sequence space so that
runs cross the wrap-around, with no time passing (no time-based give-ups).
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.voice.jitter_buffer import JitterBuffer, Playout, PlayoutKind

STEP = 960
DEPTH = 3


@st.composite
def network_runs(draw: st.DrawFn) -> list[int]:
    start = draw(st.integers(0, 0xFFFF))
    count = draw(st.integers(1, 120))
    seed = draw(st.integers(0, 2**32 - 1))
    loss = draw(st.floats(0.0, 0.3))
    duplication = draw(st.floats(0.0, 0.2))
    rng = random.Random(seed)
    sent = [start + i for i in range(count)]
    survivors = [s for s in sent if rng.random() >= loss]
    copies = survivors + [s for s in survivors if rng.random() < duplication]
    # Each copy arrives at its position plus a delay below DEPTH slots: reordering
    # within the window, never overtaken by a packet DEPTH or more places later.
    arrival = sorted(copies, key=lambda s: (s - start) + rng.uniform(0, DEPTH - 1e-9))
    return arrival


@settings(max_examples=300, deadline=None)
@given(network_runs())
def test_playout_is_contiguous_in_order_and_plays_each_received_packet_once(
    arrival: list[int],
) -> None:
    buffer = JitterBuffer(depth=DEPTH, max_conceal=1000, max_gap=1000)
    played: list[Playout] = []
    for seq in arrival:
        outputs, _ = buffer.push(
            seq & 0xFFFF, (seq * STEP) % (1 << 32), seq.to_bytes(4, "big"), 0.0
        )
        played += [o for o in outputs if isinstance(o, Playout)]
    played += [o for o in buffer.flush(0.0) if isinstance(o, Playout)]
    if not arrival:
        assert played == []
        return
    first = arrival[0]
    expected = sorted({s for s in arrival if s >= first})
    # In order, one slot per 20 ms, no holes, from the first arrival to the last packet.
    slots = [p.timestamp for p in played]
    assert slots == [(s * STEP) % (1 << 32) for s in range(first, expected[-1] + 1)]
    # Every packet received from the first arrival on is played exactly once...
    packets = [
        int.from_bytes(p.payload or b"", "big") for p in played if p.kind is PlayoutKind.PACKET
    ]
    assert packets == expected
    # ...and every hole is concealed (FEC when the next packet is there), never skipped.
    holes = [p for p in played if p.kind is not PlayoutKind.PACKET]
    assert len(holes) == (expected[-1] - first + 1) - len(expected)
    assert all(p.kind in (PlayoutKind.FEC, PlayoutKind.CONCEAL) for p in holes)
