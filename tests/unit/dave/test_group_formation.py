"""Real davey sessions form one MLS group through the fake voice server."""

from __future__ import annotations

from tests.fakes.dave import DaveOp, LocalDaveGroup


def test_a_lone_member_waits_in_a_pending_group() -> None:
    group = LocalDaveGroup()

    alone = group.add_member(1001)

    assert not alone.ready
    assert group.server.epoch == 0
    assert group.received[1001] == [DaveOp.MLS_EXTERNAL_SENDER]


def test_two_members_form_a_ready_group_with_one_privacy_code() -> None:
    group = LocalDaveGroup()
    alice = group.add_member(1001)
    bob = group.add_member(1002)

    assert alice.ready
    assert bob.ready
    assert alice.epoch == bob.epoch == group.server.epoch == 1
    assert alice.voice_privacy_code is not None
    assert alice.voice_privacy_code == bob.voice_privacy_code
    assert group.errors == []


def test_three_members_share_epoch_and_privacy_code() -> None:
    group = LocalDaveGroup()
    sessions = [group.add_member(user_id) for user_id in (1001, 1002, 1003)]

    assert group.all_ready
    assert {s.epoch for s in sessions} == {group.server.epoch}
    assert len({s.voice_privacy_code for s in sessions}) == 1
    assert group.errors == []


def test_every_session_lists_every_member() -> None:
    group = LocalDaveGroup()
    sessions = [group.add_member(user_id) for user_id in (1001, 1002, 1003)]

    for session in sessions:
        assert sorted(session.get_user_ids()) == ["1001", "1002", "1003"]


def test_server_leaf_indices_match_the_sessions_own() -> None:
    group = LocalDaveGroup()
    for user_id in (1001, 1002, 1003):
        group.add_member(user_id)

    for user_id, session in group.sessions.items():
        assert session.own_leaf_index == group.server.leaf_index(user_id)


def test_member_joining_an_existing_group_is_welcomed_not_sent_the_commit() -> None:
    group = LocalDaveGroup()
    group.add_member(1001)
    group.add_member(1002)

    late = group.add_member(1003)

    assert late.ready
    assert DaveOp.MLS_WELCOME in group.received[1003]
    assert DaveOp.MLS_ANNOUNCE_COMMIT_TRANSITION not in group.received[1003]
    assert DaveOp.MLS_PROPOSALS not in group.received[1003]


def test_existing_members_get_the_commit_when_someone_joins() -> None:
    group = LocalDaveGroup()
    group.add_member(1001)
    group.add_member(1002)
    before = {uid: len(log) for uid, log in group.received.items()}

    group.add_member(1003)

    for user_id in (1001, 1002):
        since_join = group.received[user_id][before[user_id] :]
        assert DaveOp.MLS_ANNOUNCE_COMMIT_TRANSITION in since_join


def test_every_member_executes_the_transition_that_admitted_it() -> None:
    group = LocalDaveGroup()
    for user_id in (1001, 1002, 1003):
        group.add_member(user_id)

    latest = group.server.accepted_commits
    for user_id in (1001, 1002, 1003):
        assert group.executed_transitions[user_id][-1] == latest
    assert group.server.pending_transitions == ()


def test_commits_that_lose_the_race_are_superseded_not_rejected() -> None:
    group = LocalDaveGroup()
    for user_id in (1001, 1002, 1003):
        group.add_member(user_id)

    # Every offered member commits; only one commit per epoch wins.
    assert group.server.superseded["stale_epoch"] > 0
    assert group.server.rejected == {}
