"""The per-SSRC playout buffer as a state machine: packets in, 20 ms slots out."""

from __future__ import annotations

from bot.voice.jitter_buffer import JitterBuffer, Output, Playout, PlayoutKind, SpeechEdge
from bot.voice.rtp import DropReason

STEP = 960


def frame(seq: int) -> bytes:
    return seq.to_bytes(4, "big")


def push(
    buffer: JitterBuffer, seq: int, *, ts: int | None = None, now: float = 0.0
) -> tuple[list[Output], DropReason | None]:
    return buffer.push(
        seq & 0xFFFF, (seq * STEP if ts is None else ts) % (1 << 32), frame(seq), now
    )


def slots(outputs: list[Output]) -> list[tuple[PlayoutKind, int]]:
    return [(o.kind, o.timestamp) for o in outputs if isinstance(o, Playout)]


def edges(outputs: list[Output]) -> list[bool]:
    return [o.speaking for o in outputs if isinstance(o, SpeechEdge)]


def test_first_packet_starts_speech_and_plays_at_once() -> None:
    outputs, dropped = push(JitterBuffer(), 10)
    assert dropped is None
    assert edges(outputs) == [True]
    assert slots(outputs) == [(PlayoutKind.PACKET, 10 * STEP)]


def test_in_order_packets_play_without_waiting() -> None:
    buffer = JitterBuffer()
    push(buffer, 1)
    outputs, _ = push(buffer, 2)
    assert slots(outputs) == [(PlayoutKind.PACKET, 2 * STEP)]
    assert buffer.buffered == 0


def test_reordered_packet_waits_then_both_play_in_order() -> None:
    buffer = JitterBuffer(depth=3)
    push(buffer, 1)
    held, _ = push(buffer, 3)
    assert slots(held) == []
    released, _ = push(buffer, 2)
    assert slots(released) == [(PlayoutKind.PACKET, 2 * STEP), (PlayoutKind.PACKET, 3 * STEP)]


def test_duplicate_packet_is_dropped() -> None:
    buffer = JitterBuffer()
    push(buffer, 1)
    push(buffer, 3)
    assert push(buffer, 3) == ([], DropReason.DUPLICATE)


def test_packet_after_its_slot_was_played_is_late() -> None:
    buffer = JitterBuffer()
    push(buffer, 5)
    push(buffer, 6)
    assert push(buffer, 5) == ([], DropReason.LATE)
    assert push(buffer, 4) == ([], DropReason.LATE)


def test_lost_packet_is_rebuilt_from_the_next_packets_fec() -> None:
    buffer = JitterBuffer(depth=2)
    push(buffer, 1)
    push(buffer, 3)
    outputs, _ = push(buffer, 4)
    fec = [o for o in outputs if isinstance(o, Playout) and o.kind is PlayoutKind.FEC]
    assert slots(outputs) == [
        (PlayoutKind.FEC, 2 * STEP),
        (PlayoutKind.PACKET, 3 * STEP),
        (PlayoutKind.PACKET, 4 * STEP),
    ]
    assert fec[0].payload == frame(3)


def test_gap_without_a_following_packet_is_concealed() -> None:
    buffer = JitterBuffer(depth=2)
    push(buffer, 1)
    outputs = push(buffer, 4)[0] + push(buffer, 5)[0]
    assert slots(outputs) == [
        (PlayoutKind.CONCEAL, 2 * STEP),
        (PlayoutKind.FEC, 3 * STEP),
        (PlayoutKind.PACKET, 4 * STEP),
        (PlayoutKind.PACKET, 5 * STEP),
    ]


def test_gap_is_given_up_after_max_wait_even_without_later_packets() -> None:
    buffer = JitterBuffer(depth=5, max_wait=0.06)
    push(buffer, 1, now=0.0)
    push(buffer, 3, now=0.02)
    assert slots(buffer.tick(0.05)) == []
    assert slots(buffer.tick(0.09)) == [(PlayoutKind.FEC, 2 * STEP), (PlayoutKind.PACKET, 3 * STEP)]


def test_long_loss_is_concealed_briefly_then_filled_with_silence() -> None:
    buffer = JitterBuffer(depth=1, max_conceal=2)
    push(buffer, 1)
    outputs, _ = push(buffer, 6)
    assert [kind for kind, _ in slots(outputs)] == [
        PlayoutKind.CONCEAL,
        PlayoutKind.CONCEAL,
        PlayoutKind.GAP_SILENCE,
        PlayoutKind.GAP_SILENCE,
        PlayoutKind.PACKET,
    ]


def test_loss_longer_than_max_gap_restarts_the_stream_without_filling() -> None:
    buffer = JitterBuffer(depth=1, max_gap=10)
    push(buffer, 1)
    outputs, _ = push(buffer, 500)
    assert slots(outputs) == [(PlayoutKind.PACKET, 500 * STEP)]


def test_short_dtx_pause_becomes_silence_not_concealment() -> None:
    buffer = JitterBuffer()
    push(buffer, 1, ts=STEP)
    outputs, _ = push(buffer, 2, ts=5 * STEP)  # contiguous sequence, timestamp jumped
    assert slots(outputs) == [
        (PlayoutKind.DTX_SILENCE, 2 * STEP),
        (PlayoutKind.DTX_SILENCE, 3 * STEP),
        (PlayoutKind.DTX_SILENCE, 4 * STEP),
        (PlayoutKind.PACKET, 5 * STEP),
    ]


def test_long_dtx_pause_ends_the_talkspurt_and_starts_another() -> None:
    buffer = JitterBuffer(max_silence_fill=25)
    push(buffer, 1, ts=STEP)
    outputs, _ = push(buffer, 2, ts=STEP + 100 * STEP)
    assert edges(outputs) == [False, True]
    assert slots(outputs) == [(PlayoutKind.PACKET, 101 * STEP)]


def test_silence_after_idle_timeout_ends_speech() -> None:
    buffer = JitterBuffer(idle_timeout=0.2)
    push(buffer, 1, now=1.0)
    assert edges(buffer.tick(1.1)) == []
    assert edges(buffer.tick(1.25)) == [False]
    assert not buffer.speaking


def test_next_talkspurt_after_idle_starts_fresh_without_filler() -> None:
    buffer = JitterBuffer(idle_timeout=0.2)
    push(buffer, 1, now=1.0)
    buffer.tick(1.5)
    outputs, _ = push(buffer, 2, ts=500 * STEP, now=3.0)
    assert edges(outputs) == [True]
    assert slots(outputs) == [(PlayoutKind.PACKET, 500 * STEP)]


def test_sequence_numbers_wrap_around() -> None:
    buffer = JitterBuffer()
    played = []
    for seq in (65534, 65535, 65536, 65537):
        outputs, dropped = push(buffer, seq)
        assert dropped is None
        played += slots(outputs)
    assert [ts // STEP for _, ts in played] == [65534, 65535, 65536, 65537]


def test_reordering_across_the_wrap_plays_in_order() -> None:
    buffer = JitterBuffer(depth=3)
    played = []
    for seq in (65534, 65536, 65535, 65537):
        played += slots(push(buffer, seq)[0])
    assert [kind for kind, _ in played] == [PlayoutKind.PACKET] * 4
    assert [ts // STEP for _, ts in played] == [65534, 65535, 65536, 65537]


def test_flush_plays_out_what_is_buffered_and_ends_speech() -> None:
    buffer = JitterBuffer(depth=5)
    push(buffer, 1)
    push(buffer, 3)
    outputs = buffer.flush(1.0)
    assert slots(outputs) == [(PlayoutKind.FEC, 2 * STEP), (PlayoutKind.PACKET, 3 * STEP)]
    assert edges(outputs) == [False]


def test_reset_forgets_the_stream() -> None:
    buffer = JitterBuffer()
    push(buffer, 100)
    buffer.reset()
    outputs, dropped = push(buffer, 5)
    assert dropped is None
    assert slots(outputs) == [(PlayoutKind.PACKET, 5 * STEP)]


def test_sender_restarting_its_sequence_after_a_pause_starts_a_new_talkspurt() -> None:
    buffer = JitterBuffer(idle_timeout=0.2)
    for seq in range(1000, 1010):
        push(buffer, seq, now=1.0)
    buffer.tick(1.5)
    outputs, dropped = push(buffer, 200, now=3.0)
    assert dropped is None
    assert edges(outputs) == [True]
    assert slots(outputs) == [(PlayoutKind.PACKET, 200 * STEP)]


def test_sequence_jumping_far_back_mid_talkspurt_restarts_the_stream() -> None:
    buffer = JitterBuffer(restart_behind=500)
    for seq in range(5000, 5010):
        push(buffer, seq)
    outputs, dropped = push(buffer, 100)
    assert dropped is None
    assert edges(outputs) == [False, True]
    assert slots(outputs)[-1] == (PlayoutKind.PACKET, 100 * STEP)


def test_packet_slightly_behind_after_a_pause_is_still_late() -> None:
    buffer = JitterBuffer(idle_timeout=0.2, depth=3)
    for seq in range(10, 20):
        push(buffer, seq, now=1.0)
    buffer.tick(1.5)
    assert push(buffer, 18, now=1.6) == ([], DropReason.LATE)
