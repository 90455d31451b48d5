"""Step-by-step drivers for tests that need to act between two server messages."""

from __future__ import annotations

import davey

from tests.fakes.dave import DaveOp, DaveVoiceGroup, Outgoing

CHANNEL_ID = 1_200_000_000_000_000_002


def only(messages: list[Outgoing], to: int, opcode: int) -> Outgoing:
    matches = [m for m in messages if m.to == to and m.opcode == opcode]
    assert len(matches) == 1, f"expected one op {opcode} to {to}, got {messages}"
    return matches[0]


def binary(message: Outgoing) -> bytes:
    assert isinstance(message.payload, bytes)
    return message.payload


def join(server: DaveVoiceGroup, user_id: int) -> tuple[davey.DaveSession, list[Outgoing]]:
    """Connect a client, apply op 25, send its key package; returns what the server sent."""
    session = davey.DaveSession(server.protocol_version, user_id, server.channel_id)
    joined = server.member_joined(user_id)
    session.set_external_sender(binary(only(joined, user_id, DaveOp.MLS_EXTERNAL_SENDER)))
    rest = [m for m in joined if m.opcode != DaveOp.MLS_EXTERNAL_SENDER]
    return session, rest + server.on_key_package(user_id, session.get_serialized_key_package())


def commit_to(session: davey.DaveSession, proposals: Outgoing) -> davey.CommitWelcome:
    payload = binary(proposals)
    operation = (
        davey.ProposalsOperationType.append
        if payload[0] == 0
        else davey.ProposalsOperationType.revoke
    )
    result = session.process_proposals(operation, payload[1:])
    assert result is not None
    return result


def founded_pair(
    server: DaveVoiceGroup, first: int, second: int
) -> tuple[davey.DaveSession, davey.DaveSession, list[Outgoing]]:
    """Two clients found the group; `first` commits. Returns the server's op 29/30/22s."""
    a, _ = join(server, first)
    b, proposals = join(server, second)
    result = commit_to(a, only(proposals, first, DaveOp.MLS_PROPOSALS))
    relayed = server.on_commit_welcome(first, result.commit, result.welcome)
    a.process_commit(binary(only(relayed, first, DaveOp.MLS_ANNOUNCE_COMMIT_TRANSITION))[2:])
    b.process_welcome(binary(only(relayed, second, DaveOp.MLS_WELCOME))[2:])
    return a, b, relayed
