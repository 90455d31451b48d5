"""When a member leaves, the rest re-key and the departed member is locked out."""

from __future__ import annotations

import davey
import pytest

from tests.fakes.dave import LocalDaveGroup

OPUS_FRAME = bytes([0x78]) + bytes(range(40))


@pytest.fixture
def trio() -> LocalDaveGroup:
    group = LocalDaveGroup()
    for user_id in (1001, 1002, 1003):
        group.add_member(user_id)
    return group


def test_remaining_members_move_to_a_new_epoch_with_a_new_privacy_code(
    trio: LocalDaveGroup,
) -> None:
    epoch = trio.server.epoch
    code = trio.sessions[1001].voice_privacy_code

    trio.remove_member(1003)

    remaining = list(trio.sessions.values())
    assert all(s.ready for s in remaining)
    assert {s.epoch for s in remaining} == {epoch + 1}
    assert len({s.voice_privacy_code for s in remaining}) == 1
    assert remaining[0].voice_privacy_code != code
    assert trio.server.members == (1001, 1002)


def test_departed_members_frames_no_longer_decrypt(trio: LocalDaveGroup) -> None:
    departed = trio.remove_member(1003)

    frame = departed.encrypt_opus(OPUS_FRAME)

    with pytest.raises(ValueError, match="NoDecryptorForUser"):
        trio.sessions[1001].decrypt(1003, davey.MediaType.audio, frame)


def test_departed_member_cannot_read_frames_sent_after_rekey(trio: LocalDaveGroup) -> None:
    departed = trio.remove_member(1003)

    frame = trio.sessions[1001].encrypt_opus(OPUS_FRAME)

    assert trio.sessions[1002].decrypt(1001, davey.MediaType.audio, frame) == OPUS_FRAME
    with pytest.raises(ValueError):
        departed.decrypt(1001, davey.MediaType.audio, frame)


def test_last_two_members_keep_talking_after_the_third_leaves(trio: LocalDaveGroup) -> None:
    trio.remove_member(1002)

    frame = trio.sessions[1003].encrypt_opus(OPUS_FRAME)

    assert trio.sessions[1001].decrypt(1003, davey.MediaType.audio, frame) == OPUS_FRAME


def test_newcomer_fills_the_leaf_a_departed_member_left(trio: LocalDaveGroup) -> None:
    trio.remove_member(1002)

    newcomer = trio.add_member(1004)

    assert newcomer.ready
    assert trio.server.leaf_index(1004) == 1 == newcomer.own_leaf_index


def test_group_is_refounded_after_everyone_left() -> None:
    group = LocalDaveGroup()
    group.add_member(1001)
    group.add_member(1002)
    group.remove_member(1001)
    group.remove_member(1002)

    first = group.add_member(1003)
    second = group.add_member(1004)

    assert first.ready
    assert second.ready
    assert first.epoch == second.epoch == group.server.epoch == 1
