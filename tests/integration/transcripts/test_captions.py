"""Live captions: one message per active speaker, edited at most once a second, replaced by
the final post."""

from __future__ import annotations

import asyncio
import itertools

from tests.integration.transcripts.conftest import Scene
from tests.support.waiting import eventually


async def test_captions_are_off_by_default(scene: Scene) -> None:
    await scene.open_run()
    scene.interim("alice", "Hello")
    scene.interim("alice", "Hello how")
    await asyncio.sleep(0.3)
    assert scene.posts() == []


async def test_a_caption_follows_interim_text_at_most_once_a_second_then_gives_way(
    scene: Scene,
) -> None:
    await scene.open_run(live_captions=True)
    words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    for n in range(1, len(words) + 1):  # an interim every 150 ms for 1.5 s
        scene.interim("alice", " ".join(words[:n]))
        await asyncio.sleep(0.15)
    [caption] = await scene.wait_posts(1)
    await eventually(lambda: caption.content == "one two three four five six seven eight "
                                                "nine ten …")
    assert caption.username == "Alice"
    assert caption.allowed_mentions == {"parse": []}
    assert 1 <= len(caption.edits) <= 2  # 1.5 s of interims: at most one edit a second
    touches = [c.at for c in scene.fake.world.rest_calls
               if c.path.startswith("/webhooks/") and c.status == 200]
    assert all(later - earlier >= 0.95 for earlier, later in itertools.pairwise(touches))
    scene.utterance("alice", "One two three four five six seven eight nine ten.", "Uno… diez.")
    await eventually(lambda: caption.deleted)
    [post] = scene.posts()
    assert post.content.startswith("One two three")


async def test_each_active_speaker_has_their_own_caption(scene: Scene) -> None:
    await scene.open_run(live_captions=True)
    scene.interim("alice", "Hello")
    scene.interim("bob", "Good morning")
    captions = await scene.wait_posts(2)
    assert sorted((c.username, c.content) for c in captions) == [
        ("Alice", "Hello …"), ("Bob", "Good morning …")]
    scene.utterance("bob", "Good morning everyone.", "Buenos días a todos.")
    await eventually(lambda: [c.username for c in captions if not c.deleted] == ["Alice"])


async def test_a_caption_whose_utterance_came_out_empty_is_removed(scene: Scene) -> None:
    await scene.open_run(live_captions=True)
    scene.interim("alice", "uh")
    [caption] = await scene.wait_posts(1)
    scene.utterance("alice", "", "")  # Pinch finalised nothing
    await eventually(lambda: caption.deleted)
    assert scene.posts() == []
