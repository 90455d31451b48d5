"""The bounded drop-oldest sample ring behind playback's jitter buffers."""

from __future__ import annotations

from collections import deque

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bot.audio.ring import SampleRing

_ops = st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=40)), max_size=60)


@given(_ops)
def test_ring_behaves_like_a_bounded_fifo_dropping_the_oldest(ops: list[tuple[bool, int]]) -> None:
    ring = SampleRing(16)
    model: deque[int] = deque()
    counter = 0
    for is_write, n in ops:
        if is_write:
            block = (np.arange(n) + counter).astype(np.int16)
            counter += n
            model.extend(block.tolist())
            expected_drop = max(0, len(model) - 16)
            for _ in range(expected_drop):
                model.popleft()
            assert ring.write(block) == expected_drop
        else:
            out = np.full(n, -1, dtype=np.int16)
            got = ring.read_into(out)
            expected = [model.popleft() for _ in range(min(n, len(model)))]
            assert out[:got].tolist() == expected
            assert (out[got:] == -1).all()
        assert len(ring) == len(model)


def test_overflow_drops_the_oldest_samples_and_reports_how_many() -> None:
    ring = SampleRing(4)
    ring.write(np.array([1, 2, 3], dtype=np.int16))
    assert ring.write(np.array([4, 5, 6], dtype=np.int16)) == 2
    out = np.zeros(4, dtype=np.int16)
    assert ring.read_into(out) == 4
    assert out.tolist() == [3, 4, 5, 6]
