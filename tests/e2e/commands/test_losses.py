"""Loss everyone can see: what a run's transcript lost is in the metrics and in the run's
summary, and only there when something was lost.

The losses are real: the PostgreSQL server stops while Alice talks and the backlog of
segments waiting for it holds one (``SEGMENT_BACKLOG=1``), so two are dropped; then
the transcript thread is deleted where the bot may no longer create one, so her next
post is undeliverable.
"""

from __future__ import annotations

import pytest

from tests.e2e.commands.conftest import Interpret
from tests.e2e.commands.test_database_outage import say, start_talking
from tests.e2e.commands.test_lifecycle import summaries
from tests.e2e.test_observability import Samples, samples, total, value
from tests.fakes.discord.model import Permission
from tests.fakes.discord.thread_admin import delete_thread
from tests.support.postgres import PostgresServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.parametrize("segment_backlog", [1])


async def lose_two_segments_and_a_post(interpret: Interpret,
                                       postgres_server: PostgresServer) -> Samples:
    """The scenario of this module; returns a scrape taken during the outage."""
    storer = await start_talking(interpret)
    async with postgres_server.stopped():
        await say(interpret, 3, heard_before=1)
        await eventually(lambda: storer.counters.dropped == 2 and storer.waiting == 1, 20)
        during = await samples(interpret.bot)
    await eventually(lambda: storer.waiting == 0, within=30)

    writer = interpret.bot.services.transcripts.writer(storer_run(interpret))
    assert writer is not None
    fake = interpret.fake
    fake.set_bot_permission(fake.text_channel, deny=int(Permission.CREATE_PUBLIC_THREADS))
    await delete_thread(fake, fake.threads_in(fake.text_channel)[-1])
    await say(interpret, 1, heard_before=4)
    await eventually(lambda: writer.counters.undeliverable == 1, within=20)
    return during


def storer_run(interpret: Interpret) -> str:
    run = interpret.bot.services.runs.active(interpret.fake.guild.id)
    assert run is not None
    return run.run_id


async def test_the_metrics_count_segments_not_stored_posts_undeliverable_and_audio_dropped(
    interpret_on_postgres: Interpret, postgres_server: PostgresServer,
) -> None:
    interpret = interpret_on_postgres
    quiet = await samples(interpret.bot)

    during = await lose_two_segments_and_a_post(interpret, postgres_server)
    after = await samples(interpret.bot)

    for reason in ("backlog_full", "refused", "shutdown"):
        assert value(quiet, "interpret_segments_not_stored_total", reason=reason) == 0
    assert value(quiet, "interpret_transcript_posts_undeliverable_total") == 0
    assert ("interpret_transcripts_unrouted_total", ()) in quiet
    assert value(during, "interpret_segments_waiting") == 1
    assert value(during, "interpret_segments_not_stored_total", reason="backlog_full") == 2
    assert value(after, "interpret_segments_waiting") == 0
    assert value(after, "interpret_segments_not_stored_total", reason="backlog_full") == 2
    assert value(after, "interpret_transcript_posts_undeliverable_total") == 1
    assert value(after, "interpret_transcripts_unrouted_total") == 0
    # Audio the bot did not pass on, by stage, kind and reason (Alice's silences here).
    assert total(after, "interpret_dropped_frames_total", stage="router", kind="gate") > 0


async def test_the_summary_of_a_run_that_lost_something_says_what(
    interpret_on_postgres: Interpret, postgres_server: PostgresServer,
) -> None:
    interpret = interpret_on_postgres
    await lose_two_segments_and_a_post(interpret, postgres_server)

    await interpret.invoke("stop")
    await eventually(lambda: summaries(interpret), within=10)

    [summary] = summaries(interpret)
    assert summary.endswith(" Lost: 2 segments not stored, 1 post undeliverable.")
