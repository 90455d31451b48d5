"""A member outside the harness (the bot over a websocket) joins through the outbox."""

from __future__ import annotations

import davey

from tests.fakes.dave import DaveOp, LocalDaveGroup, Outgoing
from tests.fakes.dave.framing import encode_client_binary

REMOTE = 4242


def _forward(group: LocalDaveGroup, session: davey.DaveSession) -> list[Outgoing]:
    """Play the remote client until the outbox stays empty; returns what it received."""
    received: list[Outgoing] = []
    while outbox := group.drain_outbox():
        received += outbox
        for message in outbox:
            payload = message.payload
            assert isinstance(payload, bytes | dict)
            if message.opcode == DaveOp.MLS_EXTERNAL_SENDER:
                assert isinstance(payload, bytes)
                session.set_external_sender(payload)
            elif message.opcode == DaveOp.MLS_PROPOSALS:
                assert isinstance(payload, bytes)
                operation = (
                    davey.ProposalsOperationType.append
                    if payload[0] == 0
                    else davey.ProposalsOperationType.revoke
                )
                result = session.process_proposals(operation, payload[1:])
                if result is not None:
                    body = result.commit + (result.welcome or b"")
                    group.from_remote_binary(
                        REMOTE, encode_client_binary(DaveOp.MLS_COMMIT_WELCOME, body)
                    )
            elif message.opcode in (DaveOp.MLS_WELCOME, DaveOp.MLS_ANNOUNCE_COMMIT_TRANSITION):
                assert isinstance(payload, bytes)
                if message.opcode == DaveOp.MLS_WELCOME:
                    session.process_welcome(payload[2:])
                else:
                    session.process_commit(payload[2:])
                transition = {"transition_id": int.from_bytes(payload[:2], "big")}
                group.from_remote_json(REMOTE, DaveOp.TRANSITION_READY, transition)
    return received


def _remote_session(group: LocalDaveGroup) -> davey.DaveSession:
    session = davey.DaveSession(1, REMOTE, group.channel_id)
    group.attach_remote(REMOTE)
    group.from_remote_binary(
        REMOTE,
        encode_client_binary(DaveOp.MLS_KEY_PACKAGE, session.get_serialized_key_package()),
    )
    return session


def test_remote_members_messages_wait_in_the_outbox() -> None:
    group = LocalDaveGroup()

    group.attach_remote(REMOTE)

    assert [m.opcode for m in group.drain_outbox()] == [DaveOp.MLS_EXTERNAL_SENDER]
    assert group.drain_outbox() == []


def test_remote_member_and_local_members_share_one_group() -> None:
    group = LocalDaveGroup()
    group.add_member(1001)
    remote = _remote_session(group)
    _forward(group, remote)
    group.add_member(1002)
    _forward(group, remote)

    assert remote.ready
    assert remote.epoch == group.server.epoch
    frame = group.sessions[1002].encrypt_opus(b"\x78frame")
    assert remote.decrypt(1002, davey.MediaType.audio, frame) == b"\x78frame"


def test_remote_member_gets_execute_transition_through_the_outbox() -> None:
    group = LocalDaveGroup()
    group.add_member(1001)
    remote = _remote_session(group)
    _forward(group, remote)
    group.add_member(1002)

    received = _forward(group, remote)

    assert DaveOp.EXECUTE_TRANSITION in [m.opcode for m in received]
    assert group.server.pending_transitions == ()
