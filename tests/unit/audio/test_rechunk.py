"""Regrouping irregular blocks into fixed frames."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bot.audio.rechunk import FrameChunker


@given(st.lists(st.integers(min_value=0, max_value=1000), max_size=30))
def test_frames_are_exactly_sized_and_concatenate_to_the_input(sizes: list[int]) -> None:
    chunker = FrameChunker(320)
    stream = np.arange(sum(sizes), dtype=np.int64).astype(np.int16)
    frames = []
    offset = 0
    for size in sizes:
        frames += chunker.push(stream[offset : offset + size])
        offset += size
    assert all(f.size == 320 for f in frames)
    emitted = np.concatenate(frames) if frames else np.empty(0, np.int16)
    assert np.array_equal(emitted, stream[: emitted.size])
    assert chunker.pending == stream.size - emitted.size


def test_flush_pads_the_tail_to_a_whole_frame() -> None:
    chunker = FrameChunker(4)
    chunker.push(np.array([1, 2, 3, 4, 5], dtype=np.int16))
    assert [f.tolist() for f in chunker.flush()] == [[5, 0, 0, 0]]
    assert chunker.pending == 0


def test_flush_without_pad_returns_the_bare_remainder() -> None:
    chunker = FrameChunker(4)
    chunker.push(np.array([1, 2, 3, 4, 5, 6], dtype=np.int16))
    assert [f.tolist() for f in chunker.flush(pad=False)] == [[5, 6]]


def test_frames_do_not_alias_the_pushed_buffer() -> None:
    chunker = FrameChunker(2)
    block = np.array([1, 2], dtype=np.int16)
    (frame,) = chunker.push(block)
    block[:] = 0
    assert frame.tolist() == [1, 2]
