"""Stop and shutdown flush: posts still waiting are in the thread before the bot goes."""

from __future__ import annotations

import asyncio
import re

from bot.shutdown import GracefulShutdown
from tests.integration.transcripts.conftest import Scene, with_config
from tests.support.waiting import eventually

POSTS = r"^/webhooks/\d+/[^/]+$|^/channels/\d+/messages$"


def _backlog(scene: Scene) -> None:
    """Slow Discord right down: one post a second, so posts pile up."""
    scene.fake.rest.bucket_limit("POST", POSTS, limit=1, per=1.0)


def _emit_conversation(scene: Scene) -> list[str]:
    said = []
    for n in range(6):
        member = ("alice", "bob")[n % 2]
        scene.utterance(member, f"sentence {n}", f"frase {n}")
        said.append(f"sentence {n}")
    scene.said("alice", "sentence 6")  # its translation never comes
    return [*said, "sentence 6"]


def _in_thread(scene: Scene) -> list[str]:
    return re.findall(r"sentence \d", "\n".join(p.content for p in scene.posts()))


async def test_stop_with_posts_pending_flushes_them_before_it_returns(scene: Scene) -> None:
    with_config(scene.service, translation_wait_s=5.0)
    _backlog(scene)
    writer = await scene.open_run()
    said = _emit_conversation(scene)
    await eventually(lambda: scene.posts())
    assert writer.pending > 0
    scene.stopped()  # the engine's STOPPED status, as the manager emits it
    await scene.finish()  # what the stop command awaits
    assert _in_thread(scene) == said
    assert writer.counters.undeliverable == 0


async def test_shutdown_posts_everything_pending_before_leaving_discord(scene: Scene) -> None:
    _backlog(scene)
    writer = await scene.open_run()
    said = _emit_conversation(scene)
    await eventually(lambda: scene.posts())
    assert writer.pending > 0
    await scene.bot.close()
    assert _in_thread(scene) == said
    posted_at = [c.at for c in scene.fake.world.rest_calls
                 if c.method == "POST" and re.search(POSTS, c.path) and c.status == 200]
    assert max(posted_at) < min(scene.fake.gateway.disconnects)


async def test_the_graceful_shutdown_flushes_through_the_bots_flush_hook(scene: Scene) -> None:
    _backlog(scene)
    writer = await scene.open_run()
    said = _emit_conversation(scene)
    await eventually(lambda: scene.posts())
    assert writer.pending > 0
    # What SIGTERM/SIGINT run (bot.serve): stop the runs, flush hooks, then close.
    assert await GracefulShutdown(scene.bot, timeout_s=30).run()
    assert _in_thread(scene) == said
    posted_at = [c.at for c in scene.fake.world.rest_calls
                 if c.method == "POST" and re.search(POSTS, c.path) and c.status == 200]
    assert max(posted_at) < min(scene.fake.gateway.disconnects)


async def test_a_second_finish_waits_for_the_flush_the_first_one_started(scene: Scene) -> None:
    _backlog(scene)
    writer = await scene.open_run()
    said = _emit_conversation(scene)
    await eventually(lambda: scene.posts())
    scene.stopped()  # the listener starts the flush
    await asyncio.sleep(0)
    await scene.finish()
    assert _in_thread(scene) == said
    assert writer.pending == 0
