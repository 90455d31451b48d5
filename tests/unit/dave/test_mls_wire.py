"""MLS encodings the fake voice server writes agree with RFC 9420 and with davey."""

from __future__ import annotations

import davey
import pytest

from tests.fakes.dave import DaveOp, DaveVoiceGroup, ExternalSender, mls_wire
from tests.unit.dave.helpers import CHANNEL_ID, commit_to, founded_pair, only

GROUP_ID = CHANNEL_ID.to_bytes(8, "big")


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (37, bytes.fromhex("25")),
        (15293, bytes.fromhex("7bbd")),
        (494878333, bytes.fromhex("9d7f3e7d")),
    ],
)
def test_varint_matches_the_rfc_examples(value: int, encoded: bytes) -> None:
    assert mls_wire.encode_varint(value) == encoded
    assert mls_wire.Reader(encoded).varint() == value


def test_varint_reader_refuses_non_minimal_encodings() -> None:
    with pytest.raises(mls_wire.MlsDecodeError, match="non-minimal"):
        mls_wire.Reader(bytes.fromhex("4025")).varint()


def test_varint_reader_refuses_the_8_byte_prefix() -> None:
    with pytest.raises(mls_wire.MlsDecodeError):
        mls_wire.Reader(bytes.fromhex("c000000000000025")).varint()


def test_reader_refuses_to_read_past_the_end() -> None:
    with pytest.raises(mls_wire.MlsDecodeError, match="truncated"):
        mls_wire.Reader(bytes.fromhex("05abcd")).opaque()


def test_davey_accepts_the_external_sender_package() -> None:
    session = davey.DaveSession(1, 1, CHANNEL_ID)

    session.set_external_sender(ExternalSender().package)

    assert session.status == davey.SessionStatus.pending


def test_davey_refuses_a_truncated_external_sender_package() -> None:
    session = davey.DaveSession(1, 1, CHANNEL_ID)

    with pytest.raises(ValueError):
        session.set_external_sender(ExternalSender().package[:-2])


def test_key_package_decodes_to_the_davey_user_id() -> None:
    key_package = davey.DaveSession(1, 123456789012345678, CHANNEL_ID).get_serialized_key_package()

    info = mls_wire.parse_key_package(key_package)

    assert info.user_id == 123456789012345678
    assert info.cipher_suite == mls_wire.CIPHERSUITE_P256


def test_commit_cites_the_proposal_ref_the_server_computed() -> None:
    sender = ExternalSender()
    committer = davey.DaveSession(1, 1, CHANNEL_ID)
    committer.set_external_sender(sender.package)
    joiner_kp = davey.DaveSession(1, 2, CHANNEL_ID).get_serialized_key_package()
    proposal = sender.propose_add(GROUP_ID, 0, joiner_kp)

    result = committer.process_proposals(
        davey.ProposalsOperationType.append, mls_wire.encode_proposals_payload([proposal.message])
    )

    assert result is not None
    commit = mls_wire.parse_commit(result.commit)
    assert commit.proposal_refs == (proposal.ref,)
    assert commit.group_id == GROUP_ID
    assert commit.epoch == 0


def test_davey_refuses_a_proposal_signed_by_another_key() -> None:
    trusted, impostor = ExternalSender(), ExternalSender()
    committer = davey.DaveSession(1, 1, CHANNEL_ID)
    committer.set_external_sender(trusted.package)
    joiner_kp = davey.DaveSession(1, 2, CHANNEL_ID).get_serialized_key_package()
    forged = impostor.propose_add(GROUP_ID, 0, joiner_kp)

    with pytest.raises(ValueError):
        committer.process_proposals(
            davey.ProposalsOperationType.append, mls_wire.encode_proposals_payload([forged.message])
        )


def test_commit_welcome_payload_splits_where_discord_py_joined_it() -> None:
    sender = ExternalSender()
    committer = davey.DaveSession(1, 1, CHANNEL_ID)
    committer.set_external_sender(sender.package)
    joiner_kp = davey.DaveSession(1, 2, CHANNEL_ID).get_serialized_key_package()
    proposal = sender.propose_add(GROUP_ID, 0, joiner_kp)
    result = committer.process_proposals(
        davey.ProposalsOperationType.append, mls_wire.encode_proposals_payload([proposal.message])
    )
    assert result is not None
    assert result.welcome is not None

    commit, welcome = mls_wire.split_commit_welcome(result.commit + result.welcome)

    assert commit == result.commit
    assert welcome == result.welcome


def test_remove_only_commit_splits_to_no_welcome() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    alice, _, _ = founded_pair(server, 1, 2)
    proposals = only(server.member_left(2), 1, DaveOp.MLS_PROPOSALS)
    result = commit_to(alice, proposals)
    assert result.welcome is None

    assert mls_wire.split_commit_welcome(result.commit) == (result.commit, None)
