"""The thread can be archived, locked or deleted mid-run: posting goes on, nothing is lost."""

from __future__ import annotations

import asyncio

from tests.fakes.discord.thread_admin import archive_thread, delete_thread
from tests.integration.transcripts.conftest import Scene
from tests.support.waiting import eventually


async def test_thread_deleted_mid_run_later_utterances_go_to_a_new_thread(scene: Scene) -> None:
    writer = await scene.open_run()
    scene.utterance("alice", "one", "uno")
    scene.utterance("bob", "two", "dos")
    first = scene.thread
    await scene.wait_posts(2)
    await delete_thread(scene.fake, first)
    for member, original, translation in [("alice", "three", "tres"), ("bob", "four", "cuatro"),
                                          ("alice", "five", "cinco")]:
        scene.utterance(member, original, translation)
        await asyncio.sleep(0.1)
    await eventually(lambda: scene.thread_id() not in (None, first.id)
                     and len(scene.posts()) == 3)
    second = scene.thread
    assert second.name.endswith("(continued)")
    assert [(p.username, p.content) for p in scene.posts(second)] == [
        ("Alice", "three\n> tres"), ("Bob", "four\n> cuatro"), ("Alice", "five\n> cinco")]
    assert writer.counters.undeliverable == 0


async def test_thread_deleted_without_notice_the_failed_post_is_retried_in_a_new_thread(
    scene: Scene,
) -> None:
    writer = await scene.open_run()
    scene.utterance("alice", "one", "uno")
    first = scene.thread
    await scene.wait_posts(1)
    await delete_thread(scene.fake, first, announce=False)  # the bot learns it from a 404
    scene.utterance("bob", "two", "dos")
    await eventually(lambda: scene.thread_id() not in (None, first.id) and len(scene.posts()) == 1)
    assert [p.content for p in scene.posts()] == ["two\n> dos"]
    assert writer.counters.thread_recoveries >= 1
    assert [c.status for c in scene.fake.rest_calls("POST", "/webhooks/")][-2:] == [404, 200]


async def test_a_late_translation_of_a_post_in_a_deleted_thread_is_posted_whole_anew(
    scene: Scene,
) -> None:
    await scene.open_run()
    scene.said("alice", "one")
    first = scene.thread
    await scene.wait_posts(1)  # posted alone: the translation is late
    await delete_thread(scene.fake, first)
    scene.translated("alice", "uno")
    await eventually(lambda: scene.thread_id() not in (None, first.id) and scene.posts())
    assert [p.content for p in scene.posts()] == ["one\n> uno"]


async def test_archived_thread_is_reopened_by_the_next_post(scene: Scene) -> None:
    await scene.open_run()
    scene.utterance("alice", "one", "uno")
    await scene.wait_posts(1)
    thread = scene.thread
    await archive_thread(scene.fake, thread)
    scene.utterance("bob", "two", "dos")
    await scene.wait_posts(2)
    assert scene.fake.threads_in(scene.fake.text_channel) == [thread]
    assert not thread.archived


async def test_archived_and_locked_thread_is_unlocked_and_reopened(scene: Scene) -> None:
    await scene.open_run()
    scene.utterance("alice", "one", "uno")
    await scene.wait_posts(1)
    thread = scene.thread
    await archive_thread(scene.fake, thread, locked=True)
    scene.utterance("bob", "two", "dos")
    await scene.wait_posts(2)
    assert scene.fake.threads_in(scene.fake.text_channel) == [thread]
    assert (thread.archived, thread.locked) == (False, False)
    patches = [c for c in scene.fake.rest_calls("PATCH", f"/channels/{thread.id}")]
    assert patches[-1].body == {"archived": False, "locked": False}


async def test_a_run_restarted_within_ten_minutes_reuses_its_thread(scene: Scene) -> None:
    await scene.open_run()
    scene.utterance("alice", "one", "uno")
    await scene.wait_posts(1)
    thread = scene.thread
    await archive_thread(scene.fake, thread)
    await scene.finish()
    await scene.open_run()
    scene.utterance("bob", "two", "dos")
    await scene.wait_posts(2)
    assert scene.fake.threads_in(scene.fake.text_channel) == [thread]


async def test_a_restart_with_other_languages_opens_a_new_thread(scene: Scene) -> None:
    await scene.open_run()
    scene.utterance("alice", "one", "uno")
    await scene.wait_posts(1)
    await scene.finish()
    await scene.open_run(target_language="fr-FR")
    scene.utterance("bob", "two", "deux")
    await eventually(lambda: len(scene.fake.threads_in(scene.fake.text_channel)) == 2)
    assert scene.thread.name.startswith("Voice · en-US → fr-FR · ")


async def test_a_run_that_posted_nothing_leaves_no_empty_thread(scene: Scene) -> None:
    await scene.open_run()
    assert scene.thread_id() is not None
    await scene.finish()
    assert scene.fake.threads_in(scene.fake.text_channel) == []
