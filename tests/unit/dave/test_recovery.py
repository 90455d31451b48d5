"""Membership changes mid-round and clients that lost their group recover cleanly."""

from __future__ import annotations

import davey

from tests.fakes.dave import DaveOp, LocalDaveGroup, Outgoing

OPUS_FRAME = bytes([0x78]) + bytes(range(30))


def _pair() -> LocalDaveGroup:
    group = LocalDaveGroup()
    group.add_member(1001)
    group.add_member(1002)
    return group


def _joiner_key_package(group: LocalDaveGroup, user_id: int) -> bytes:
    session = davey.DaveSession(1, user_id, group.channel_id)
    return session.get_serialized_key_package()


def test_joiner_leaving_before_its_add_is_committed_is_revoked() -> None:
    group = _pair()
    server = group.server
    held = server.member_joined(1003) + server.on_key_package(
        1003, _joiner_key_package(group, 1003)
    )

    held += server.member_left(1003)
    group.deliver(held)

    revokes = [
        m
        for m in held
        if m.opcode == DaveOp.MLS_PROPOSALS and isinstance(m.payload, bytes) and m.payload[0] == 1
    ]
    assert {m.to for m in revokes} == {1001, 1002}
    assert server.epoch == 1
    assert server.members == (1001, 1002)
    assert group.errors == []


def test_members_still_talk_after_a_revoked_round() -> None:
    group = _pair()
    server = group.server
    held = server.member_joined(1003) + server.on_key_package(
        1003, _joiner_key_package(group, 1003)
    )
    held += server.member_left(1003)
    group.deliver(held)

    frame = group.sessions[1001].encrypt_opus(OPUS_FRAME)

    assert group.sessions[1002].decrypt(1001, davey.MediaType.audio, frame) == OPUS_FRAME


def test_commit_to_a_revoked_round_is_refused() -> None:
    group = _pair()
    server = group.server
    held = server.member_joined(1003) + server.on_key_package(
        1003, _joiner_key_package(group, 1003)
    )
    held += server.member_left(1003)

    group.deliver(held)

    # Both members committed to Add(1003) before they saw the revoke.
    assert server.superseded["revoked_round"] == 2
    assert server.rejected == {}
    assert server.accepted_commits == 1


def test_member_that_lost_its_group_reports_op_31_and_is_readmitted() -> None:
    group = _pair()
    group.add_member(1003)
    # The client silently threw its group away (as after a crash of its MLS state).
    group.sessions[1002].reinit(1, 1002, group.channel_id)

    group.add_member(1004)

    assert group.server.invalid_reports[1002] == 1
    assert any(e.user_id == 1002 for e in group.errors)
    assert group.all_ready
    assert len({s.epoch for s in group.sessions.values()}) == 1
    assert group.server.rejected == {}


def test_readmitted_member_decrypts_again() -> None:
    group = _pair()
    group.add_member(1003)
    group.sessions[1002].reinit(1, 1002, group.channel_id)
    group.add_member(1004)

    frame = group.sessions[1004].encrypt_opus(OPUS_FRAME)

    assert group.sessions[1002].decrypt(1004, davey.MediaType.audio, frame) == OPUS_FRAME


def test_fresh_key_package_from_a_member_replaces_its_leaf() -> None:
    group = _pair()
    group.add_member(1003)
    epoch = group.server.epoch
    session = group.sessions[1003]
    session.reinit(1, 1003, group.channel_id)

    group.deliver(group.server.on_key_package(1003, session.get_serialized_key_package()))

    assert group.all_ready
    assert group.server.epoch == epoch + 1
    assert group.server.members == (1001, 1002, 1003)
    assert group.errors == []


def test_reconnecting_member_is_removed_and_readmitted() -> None:
    group = _pair()
    group.add_member(1003)

    group.add_member(1002)  # identifies again with a brand-new session

    assert group.all_ready
    assert sorted(group.sessions[1002].get_user_ids()) == ["1001", "1002", "1003"]
    frame = group.sessions[1001].encrypt_opus(OPUS_FRAME)
    assert group.sessions[1002].decrypt(1001, davey.MediaType.audio, frame) == OPUS_FRAME


def test_prepare_epoch_one_makes_a_client_reinitialise_and_rejoin() -> None:
    group = _pair()
    epoch = group.server.epoch

    group.deliver([Outgoing(1001, DaveOp.PREPARE_EPOCH, {"epoch": 1, "protocol_version": 1})])

    assert group.all_ready
    assert group.server.epoch == epoch + 1
    assert group.server.invalid_reports[1001] == 0
