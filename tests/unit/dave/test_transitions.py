"""The server executes a commit's transition only once every recipient is ready."""

from __future__ import annotations

from tests.fakes.dave import DaveOp, DaveVoiceGroup, Outgoing
from tests.unit.dave.helpers import CHANNEL_ID, binary, founded_pair, only


def _transition_id(relayed: list[Outgoing], to: int) -> int:
    return int.from_bytes(binary(only(relayed, to, DaveOp.MLS_ANNOUNCE_COMMIT_TRANSITION))[:2])


def test_commit_and_welcome_carry_the_same_nonzero_transition_id() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    _, _, relayed = founded_pair(server, 1, 2)

    tid = _transition_id(relayed, 1)
    welcome_tid = int.from_bytes(binary(only(relayed, 2, DaveOp.MLS_WELCOME))[:2])

    assert tid == welcome_tid != 0


def test_execute_waits_for_the_last_ready_member() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    _, _, relayed = founded_pair(server, 1, 2)
    tid = _transition_id(relayed, 1)

    assert server.on_transition_ready(1, tid) == []
    executed = server.on_transition_ready(2, tid)

    assert executed == [
        Outgoing(1, DaveOp.EXECUTE_TRANSITION, {"transition_id": tid}),
        Outgoing(2, DaveOp.EXECUTE_TRANSITION, {"transition_id": tid}),
    ]
    assert server.pending_transitions == ()


def test_member_leaving_does_not_block_the_transition() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    _, _, relayed = founded_pair(server, 1, 2)
    tid = _transition_id(relayed, 1)
    server.on_transition_ready(1, tid)

    out = server.member_left(2)

    assert Outgoing(1, DaveOp.EXECUTE_TRANSITION, {"transition_id": tid}) in out


def test_ready_for_an_unknown_transition_is_counted() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    founded_pair(server, 1, 2)

    assert server.on_transition_ready(1, 999) == []
    assert server.rejected["unknown_transition"] == 1


def test_duplicate_ready_is_counted_not_executed_twice() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    _, _, relayed = founded_pair(server, 1, 2)
    tid = _transition_id(relayed, 1)
    server.on_transition_ready(1, tid)

    assert server.on_transition_ready(1, tid) == []
    assert server.rejected["unexpected_transition_ready"] == 1
