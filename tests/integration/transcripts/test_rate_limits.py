"""Under Discord's rate limits the thread stays complete and in order (merging when behind)."""

from __future__ import annotations

import asyncio
import re

from tests.integration.transcripts.conftest import Scene
from tests.support.waiting import eventually

WEBHOOK_EXECUTE = r"^/webhooks/\d+/[^/]+$"
# Posting as the speaker or as the bot (merged posts of several speakers go as the bot).
POSTS = rf"{WEBHOOK_EXECUTE}|^/channels/\d+/messages$"


async def test_a_burst_of_50_final_segments_arrives_complete_and_in_order(scene: Scene) -> None:
    # Discord's webhook limit is about 5 requests per 2 s; here 5 per second, plus a few
    # outright 429s that discord.py has to sit out.
    bucket = scene.fake.rest.bucket_limit("POST", POSTS, limit=5, per=1.0)
    scene.fake.rest.rate_limit("POST", POSTS, times=3, retry_after=0.3)
    writer = await scene.open_run()
    for n in range(50):
        member = "alice" if n % 10 < 5 else "bob"
        scene.utterance(member, f"utterance {n:02d} from {member}", f"frase {n:02d}")
        await asyncio.sleep(0.03)  # 50 segments in 1.5 s: far more than 5 posts a second
    await eventually(lambda: writer.pending == 0 and writer.counters.posts > 0
                     and _said(scene) and len(_said(scene)) >= 50, within=60)

    said = _said(scene)
    assert [n for n, _ in said] == list(range(50))
    assert [t for _, t in _translated(scene)] == list(range(50))
    assert all(f"from {m}" in line for (_, line), m in
               zip(said, ["alice" if n % 10 < 5 else "bob" for n in range(50)], strict=True))
    statuses = [c.status for c in scene.fake.world.rest_calls
                if c.method == "POST" and re.search(POSTS, c.path)]
    assert statuses.count(429) >= 3
    assert writer.counters.undeliverable == 0
    assert writer.counters.messages_sent < 50  # it fell behind and merged
    assert all(len(p.content) <= 2000 for p in scene.posts())
    sizes = [len(p.content) for p in scene.posts()]
    print(f"\n50 segments → {writer.counters.messages_sent} messages, "
          f"{writer.counters.posts} posts, {statuses.count(429)} answers 429, "
          f"bucket limited {bucket.limited}, message sizes {sizes}")


def _said(scene: Scene) -> list[tuple[int, str]]:
    text = "\n".join(p.content for p in scene.posts())
    return [(int(m.group(1)), m.group(0)) for m in
            re.finditer(r"utterance (\d+) from \w+", text)]


def _translated(scene: Scene) -> list[tuple[str, int]]:
    text = "\n".join(p.content for p in scene.posts())
    return [(m.group(0), int(m.group(1))) for m in re.finditer(r"frase (\d+)", text)]


async def test_merged_posts_of_one_speaker_still_go_out_under_their_name(scene: Scene) -> None:
    scene.fake.rest.rate_limit("POST", WEBHOOK_EXECUTE, times=2, retry_after=0.5)
    writer = await scene.open_run()
    for n in range(6):
        scene.utterance("alice", f"line {n}", f"línea {n}")
    await eventually(lambda: writer.pending == 0 and len(_lines(scene)) == 6, within=20)
    assert _lines(scene) == [f"line {n}" for n in range(6)]
    assert {p.username for p in scene.posts()} == {"Alice"}
    assert writer.counters.messages_sent < 6


def _lines(scene: Scene) -> list[str]:
    text = "\n".join(p.content for p in scene.posts())
    return re.findall(r"^line \d+", text, re.MULTILINE)
