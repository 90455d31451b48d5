"""Bad client input is dropped and counted by reason; it never raises out of the server."""

from __future__ import annotations

import davey
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes.dave import DaveOp, DaveVoiceGroup, LocalDaveGroup
from tests.fakes.dave.framing import encode_client_binary
from tests.unit.dave.helpers import CHANNEL_ID, commit_to, founded_pair, join, only


def _key_package(user_id: int) -> bytes:
    return davey.DaveSession(1, user_id, CHANNEL_ID).get_serialized_key_package()


def test_truncated_key_package_is_counted() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    server.member_joined(1)

    assert server.on_key_package(1, _key_package(1)[:-5]) == []
    assert server.rejected["malformed_key_package"] == 1


def test_key_package_with_trailing_bytes_is_counted() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    server.member_joined(1)

    assert server.on_key_package(1, _key_package(1) + b"\x00") == []
    assert server.rejected["malformed_key_package"] == 1


def test_key_package_naming_another_user_is_counted() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    server.member_joined(1)

    assert server.on_key_package(1, _key_package(2)) == []
    assert server.rejected["credential_mismatch"] == 1


def test_key_package_altered_after_signing_is_counted() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    server.member_joined(1)
    key_package = bytearray(_key_package(1))
    key_package[10] ^= 0x01  # inside init_key: structure intact, signature broken

    assert server.on_key_package(1, bytes(key_package)) == []
    assert server.rejected["bad_key_package_signature"] == 1


def test_key_package_from_an_unconnected_user_is_counted() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)

    assert server.on_key_package(7, _key_package(7)) == []
    assert server.rejected["unknown_member"] == 1


def test_rejected_key_package_does_not_start_a_round() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    join(server, 1)
    server.member_joined(2)

    server.on_key_package(2, _key_package(2)[:40])

    assert not server.round_open


def test_garbage_commit_welcome_payload_is_counted() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    join(server, 1)
    join(server, 2)

    frame = encode_client_binary(DaveOp.MLS_COMMIT_WELCOME, b"\x00\x01\x00\x01garbage")

    assert server.on_client_binary(1, frame) == []
    assert server.rejected["malformed_commit"] == 1
    assert server.epoch == 0


def test_commit_with_corrupt_welcome_is_counted_and_round_stays_open() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    alice, _ = join(server, 1)
    _, proposals = join(server, 2)
    result = commit_to(alice, only(proposals, 1, DaveOp.MLS_PROPOSALS))
    assert result.welcome is not None

    assert server.on_commit_welcome(1, result.commit, result.welcome[:-3]) == []
    assert server.rejected["malformed_welcome"] == 1
    assert server.round_open


def test_commit_without_the_welcome_its_adds_need_is_counted() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    alice, _ = join(server, 1)
    _, proposals = join(server, 2)
    result = commit_to(alice, only(proposals, 1, DaveOp.MLS_PROPOSALS))

    assert server.on_commit_welcome(1, result.commit, None) == []
    assert server.rejected["missing_welcome"] == 1


def test_replayed_commit_is_counted_as_superseded() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    alice, _ = join(server, 1)
    _, proposals = join(server, 2)
    result = commit_to(alice, only(proposals, 1, DaveOp.MLS_PROPOSALS))
    server.on_commit_welcome(1, result.commit, result.welcome)

    assert server.on_commit_welcome(1, result.commit, result.welcome) == []
    assert server.superseded["stale_epoch"] == 1
    assert server.rejected == {}
    assert server.epoch == 1


def test_commit_from_a_member_not_offered_the_proposals_is_counted() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    alice, _ = join(server, 1)
    _, proposals = join(server, 2)
    result = commit_to(alice, only(proposals, 1, DaveOp.MLS_PROPOSALS))
    server.member_joined(3)

    assert server.on_commit_welcome(3, result.commit, result.welcome) == []
    assert server.rejected["not_offered"] == 1


def test_commit_citing_another_members_offer_is_counted() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    alice, _ = join(server, 1)
    _, proposals = join(server, 2)
    result = commit_to(alice, only(proposals, 1, DaveOp.MLS_PROPOSALS))

    # Bob was offered Add(alice), not Add(bob): alice's commit is not his to send.
    assert server.on_commit_welcome(2, result.commit, result.welcome) == []
    assert server.rejected["proposals_mismatch"] == 1


def test_empty_binary_frame_is_counted() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    server.member_joined(1)

    assert server.on_client_binary(1, b"") == []
    assert server.rejected["malformed_frame"] == 1


def test_server_only_binary_opcode_from_a_client_is_counted() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    server.member_joined(1)

    assert server.on_client_binary(1, bytes([DaveOp.MLS_WELCOME]) + b"\x00\x01") == []
    assert server.rejected["unexpected_opcode"] == 1


def test_transition_ready_without_an_id_is_counted() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    server.member_joined(1)

    assert server.on_client_json(1, DaveOp.TRANSITION_READY, {"id": 3}) == []
    assert server.on_client_json(1, DaveOp.TRANSITION_READY, None) == []
    assert server.rejected["malformed_json"] == 2


def test_arbitrary_client_frames_never_raise_or_change_the_group() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    founded_pair(server, 1, 2)

    @settings(max_examples=300, deadline=None)
    @given(
        opcode=st.sampled_from([DaveOp.MLS_KEY_PACKAGE, DaveOp.MLS_COMMIT_WELCOME, 0, 255]),
        body=st.binary(max_size=300),
    )
    def feed(opcode: int, body: bytes) -> None:
        server.on_client_binary(1, bytes([opcode]) + body)
        assert server.epoch == 1
        assert server.members == (1, 2)

    feed()


def test_truncations_of_a_real_commit_never_raise() -> None:
    server = DaveVoiceGroup(CHANNEL_ID)
    alice, _ = join(server, 1)
    _, proposals = join(server, 2)
    result = commit_to(alice, only(proposals, 1, DaveOp.MLS_PROPOSALS))
    assert result.welcome is not None
    payload = result.commit + result.welcome

    for cut in range(len(result.commit)):
        assert server.on_commit_welcome_payload(1, payload[:cut]) == []

    assert server.rejected["malformed_commit"] == len(result.commit)
    assert server.epoch == 0


def test_group_still_forms_after_malformed_input() -> None:
    group = LocalDaveGroup()
    group.add_member(1001)
    group.server.on_client_binary(1001, b"\x1a\xff\xff")
    group.server.on_client_binary(1001, b"\x1c\x00")

    bob = group.add_member(1002)

    assert bob.ready
    assert group.server.rejected["malformed_key_package"] == 1
    assert group.server.rejected["malformed_commit"] == 1
