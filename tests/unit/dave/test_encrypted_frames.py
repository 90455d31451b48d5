"""Members of a group formed through the fake voice server exchange E2EE audio frames."""

from __future__ import annotations

import davey

from tests.fakes.dave import LocalDaveGroup

OPUS_FRAME = bytes([0x78]) + bytes(range(60))


def test_a_members_opus_frame_decrypts_for_another_member() -> None:
    group = LocalDaveGroup()
    alice = group.add_member(1001)
    bob = group.add_member(1002)

    encrypted = alice.encrypt_opus(OPUS_FRAME)

    assert encrypted != OPUS_FRAME
    assert bob.decrypt(1001, davey.MediaType.audio, encrypted) == OPUS_FRAME


def test_every_member_of_three_decrypts_every_other_member() -> None:
    group = LocalDaveGroup()
    users = (2001, 2002, 2003)
    for user_id in users:
        group.add_member(user_id)

    for sender in users:
        encrypted = group.sessions[sender].encrypt_opus(OPUS_FRAME)
        for receiver in users:
            if receiver != sender:
                decrypted = group.sessions[receiver].decrypt(
                    sender, davey.MediaType.audio, encrypted
                )
                assert decrypted == OPUS_FRAME
