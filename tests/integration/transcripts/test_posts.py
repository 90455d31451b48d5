"""One message per utterance in the run's thread: who said it, original and translation."""

from __future__ import annotations

import datetime as dt
import time

from bot.interpretation.events import AttributedTranscript
from bot.pinch import TranscriptEvent
from bot.pinch.transcripts import TranscriptKind
from tests.fakes.discord import Permission
from tests.integration.transcripts.conftest import Scene, with_config
from tests.support.waiting import eventually

# Posting as the speaker (webhook) or as the bot.
POSTS = r"^/webhooks/\d+/[^/]+$|^/channels/\d+/messages$"
MESSAGES = r"^/webhooks/\d+/[^/]+/messages/\d+$|^/channels/\d+/messages/\d+$"


async def test_a_run_opens_a_public_thread_named_after_channel_languages_and_date(
    scene: Scene,
) -> None:
    await scene.open_run()
    await eventually(lambda: scene.fake.threads_in(scene.fake.text_channel))
    [thread] = scene.fake.threads_in(scene.fake.text_channel)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert thread.name == f"Voice · en-US → es-ES · {today}"
    assert int(thread.type) == 11  # public thread


async def test_alternating_speakers_get_one_post_each_in_order_under_their_names(
    scene: Scene,
) -> None:
    await scene.open_run()
    lines = [("alice", "Hello, how are you?", "Hola, ¿cómo estás?"),
             ("bob", "Fine, thanks.", "Bien, gracias."),
             ("alice", "The meeting starts at noon.", "La reunión empieza a mediodía."),
             ("bob", "See you then.", "Hasta entonces.")]
    for count, (member, original, translation) in enumerate(lines, 1):
        scene.utterance(member, original, translation)
        posts = await scene.wait_posts(count)  # people take turns: no backlog to merge
    assert [(p.username, p.content) for p in posts] == [
        ("Alice", "Hello, how are you?\n> Hola, ¿cómo estás?"),
        ("Bob", "Fine, thanks.\n> Bien, gracias."),
        ("Alice", "The meeting starts at noon.\n> La reunión empieza a mediodía."),
        ("Bob", "See you then.\n> Hasta entonces."),
    ]
    assert all(p.webhook_id is not None and p.avatar_url for p in posts)
    assert all(p.allowed_mentions == {"parse": []} for p in posts)


async def test_without_manage_webhooks_posts_as_the_bot_with_the_name_in_bold(
    scene: Scene,
) -> None:
    scene.fake.set_bot_permission(scene.fake.text_channel, deny=Permission.MANAGE_WEBHOOKS)
    await scene.open_run()
    scene.utterance("alice", "Hello", "Hola")
    [post] = await scene.wait_posts(1)
    assert post.webhook_id is None
    assert post.author.id == scene.fake.bot_user_id
    assert post.content == "**Alice**: Hello\n> Hola"


async def test_an_original_without_translation_is_posted_alone_then_edited(
    scene: Scene,
) -> None:
    await scene.open_run()
    scene.said("alice", "Hello")
    [post] = await scene.wait_posts(1)
    assert post.content == "Hello"
    scene.translated("alice", "Hola")
    await eventually(lambda: post.content == "Hello\n> Hola")
    assert [e["allowed_mentions"] for e in post.edits] == [{"parse": []}]
    assert len(scene.posts()) == 1


async def test_a_translation_that_comes_while_its_original_is_being_posted_is_edited_in(
    scene: Scene,
) -> None:
    # The post exists in the thread, but Discord's answer is still on its way when the
    # translation arrives: the post must still be completed.
    scene.fake.rest.answer_late("POST", POSTS, seconds=1.0)
    await scene.open_run()
    scene.said("alice", "Hello")
    [post] = await scene.wait_posts(1)
    scene.translated("alice", "Hola")
    await eventually(lambda: post.content == "Hello\n> Hola")
    assert len(scene.posts()) == 1


async def test_a_translation_that_comes_while_its_merged_post_is_being_edited_is_edited_in(
    scene: Scene,
) -> None:
    # Two originals merged into one post; the edit adding the first one's translation is
    # on its way when the second one's arrives: that one must still be edited in.
    with_config(scene.service, merge_backlog=2)
    await scene.open_run()
    scene.fake.rest.answer_late("POST", POSTS, seconds=2.0)
    scene.said("alice", "First")
    await scene.wait_posts(1)  # its answer is late: the next two queue up and merge
    scene.said("alice", "Second")
    scene.said("alice", "Third")
    first_post, merged = await scene.wait_posts(2)
    assert [line for line in merged.content.split("\n") if line in ("Second", "Third")] == [
        "Second", "Third"]
    scene.translated("alice", "Primero")
    await eventually(lambda: "Primero" in first_post.content)
    scene.fake.rest.answer_late("PATCH", MESSAGES, seconds=1.0)
    scene.translated("alice", "Segundo")
    await eventually(lambda: "Segundo" in merged.content)  # its answer is still on the way
    scene.translated("alice", "Tercero")
    await eventually(lambda: "Tercero" in merged.content)
    assert len(scene.posts()) == 2


async def test_a_translation_that_comes_within_the_wait_is_posted_with_its_original(
    scene: Scene,
) -> None:
    with_config(scene.service, translation_wait_s=5.0)
    await scene.open_run()
    scene.said("alice", "Hello")
    await scene.fake.wait_for(lambda: scene.fake.threads_in(scene.fake.text_channel))
    scene.translated("alice", "Hola")
    [post] = await scene.wait_posts(1)
    assert post.content == "Hello\n> Hola"
    assert post.edits == []


async def test_detected_language_is_shown_only_when_it_differs_from_the_source(
    scene: Scene,
) -> None:
    await scene.open_run()
    scene.said("alice", "Bonjour", language="fr")
    scene.translated("alice", "Hola")
    scene.said("bob", "Hi there", language="en")
    scene.translated("bob", "Hola a todos")
    posts = await scene.wait_posts(2)
    assert [p.content for p in posts] == ["(fr) Bonjour\n> Hola", "Hi there\n> Hola a todos"]


async def test_utterance_numbers_pair_each_translation_with_its_own_original(
    scene: Scene,
) -> None:
    await scene.open_run()
    alice, bob = scene.member_id("alice"), scene.member_id("bob")

    def send(member: int | None, kind: TranscriptKind, text: str, number: int) -> None:
        event = TranscriptEvent(kind, text, True, "en-US", time.time(), None)
        scene.bot.dispatch("interpretation_transcript",
                           AttributedTranscript(scene.voice.id, member, event, "mixed", number,
                                                run_id=scene.run_id))

    send(alice, "original", "first", 1)
    send(bob, "original", "second", 2)
    send(alice, "translated", "segundo", 2)  # mis-attributed, and out of order
    send(bob, "translated", "primero", 1)
    posts = await scene.wait_posts(2)
    assert [(p.username, p.content) for p in posts] == [("Alice", "first\n> primero"),
                                                        ("Bob", "second\n> segundo")]


async def test_each_posted_utterance_is_counted_in_the_bots_metrics(scene: Scene) -> None:
    metrics = scene.bot.metrics
    await scene.open_run()
    scene.utterance("alice", "one", "uno")
    await scene.wait_posts(1)
    scene.utterance("bob", "two", "dos")
    await scene.wait_posts(2)
    await eventually(
        lambda: metrics.sample("interpret_transcript_posts_total", {"outcome": "ok"}) == 2)
    assert metrics.sample("interpret_transcript_post_latency_seconds_count") == 2
