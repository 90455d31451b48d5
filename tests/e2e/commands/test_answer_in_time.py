"""Discord fails an interaction whose first answer comes more than 3 s after it (the fake
refuses it as Discord does: 404 Unknown interaction). Every command answers in time with
a slow database and a transcript full of speakers the bot must ask Discord about."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.util import await_only

from bot.transcripts.render import UNKNOWN_SPEAKER
from tests.e2e.commands.conftest import Interpret
from tests.fakes.discord.model import InteractionRecord, Member, User

#: Each query's delay. Above 1 s on purpose: two queries before the first answer (all
#: ``start`` and ``stop`` used to make) must already miss the deadline.
SLOW_QUERY_S = 1.5
SPEAKERS = 25
MEMBER_LOOKUP = r"^/guilds/\d+/members/\d+$"
#: One bucket per guild, as Discord's member lookups have.
MEMBER_LOOKUPS_OF_A_GUILD = r"^/guilds/\d+/members/"


@contextlib.contextmanager
def slow_store(interpret: Interpret) -> Iterator[None]:
    """Every query of the bot's store takes :data:`SLOW_QUERY_S` longer."""
    engine = interpret.bot.services.store.engine.sync_engine

    def delay(*_: Any) -> None:
        # Runs in SQLAlchemy's greenlet on the event loop's thread, where time.sleep would
        # stall the bot and the fake alike; this waits as a slow database would.
        await_only(asyncio.sleep(SLOW_QUERY_S))

    event.listen(engine, "before_cursor_execute", delay)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", delay)


def member_lookups_limited(interpret: Interpret) -> None:
    """Member lookups answered with rate-limit headers, as Discord's are: they are what
    let discord.py send lookups side by side (without them it sends one at a time)."""
    interpret.fake.rest.bucket_limit("GET", MEMBER_LOOKUPS_OF_A_GUILD, limit=10, per=1.0)


def answered_in_time(record: InteractionRecord) -> bool:
    """Discord took the first answer: it came within the deadline."""
    return record.answered_at is not None and record.refused_late == 0


def strangers(interpret: Interpret, count: int) -> list[Member]:
    """Members who joined without the bot hearing of it: not in its member cache."""
    world = interpret.fake.world
    return [world.add_member(world.guild, User(world.new_id(), f"speaker{n}",
                                               global_name=f"Speaker {n}"))
            for n in range(count)]


async def test_a_transcript_of_25_speakers_unknown_to_the_bot_is_answered_in_time(
    interpret: Interpret,
) -> None:
    speakers = strangers(interpret, SPEAKERS)
    run_id = await interpret.stored_run(interpret.fake.voice_channel, speakers)
    interpret.fake.rest.answer_late("GET", MEMBER_LOOKUP, seconds=0.2, times=SPEAKERS)
    member_lookups_limited(interpret)

    with slow_store(interpret):
        record = await interpret.invoke("transcript", run=run_id, within=30)

    assert answered_in_time(record)
    text = interpret.transcript_of(record)
    assert [n for n in range(SPEAKERS) if f"] Speaker {n} (" not in text] == []


async def test_a_speaker_discord_does_not_name_in_time_is_an_unknown_speaker(
    interpret: Interpret,
) -> None:
    [silent] = strangers(interpret, 1)
    await interpret.join("alice")  # known to the bot from her voice state
    run_id = await interpret.stored_run(interpret.fake.voice_channel,
                                        [silent, interpret.fake.member("alice")])
    interpret.fake.rest.answer_late("GET", rf"/members/{silent.id}$", seconds=30)

    record = await interpret.invoke("transcript", run=run_id, within=30)

    lines = [line for line in interpret.transcript_of(record).splitlines()
             if line.startswith("[")]
    assert [line.split("] ")[1] for line in lines] == [
        f"{UNKNOWN_SPEAKER} (en-US → es-ES)", "Alice (en-US → es-ES)"]


@pytest.mark.parametrize(("command", "options", "says"), [
    ("config", {"target": "fr", "in_voice": True}, "Saved."),
    ("config", {"scope": "server"}, "**Interpretation settings for the whole server**"),
    ("me", {}, "**Your interpretation preferences in this server**"),
], ids=["config-channel", "config-server", "me"])
async def test_settings_commands_answer_in_time_on_a_slow_store(
    interpret: Interpret, command: str, options: dict[str, Any], says: str,
) -> None:
    options = dict(options)
    if options.pop("in_voice", False):
        options["channel"] = interpret.fake.voice_channel

    with slow_store(interpret):
        record = await interpret.invoke(command, within=30, **options)

    assert answered_in_time(record)
    assert record.ephemeral
    assert record.texts[0].startswith(says)


async def test_start_status_and_stop_answer_in_time_on_a_slow_store(
    interpret: Interpret,
) -> None:
    await interpret.join("admin")

    with slow_store(interpret):
        start = await interpret.start(target="es", within=30)
        status = await interpret.invoke("status")
        stop = await interpret.invoke("stop", within=30)
        stopped = await interpret.public_answer(stop)

    assert [answered_in_time(r) for r in (start, status, stop)] == [True, True, True]
    assert status.texts[0].startswith("Interpreting ")
    assert stopped == f"Stopped interpreting <#{interpret.fake.voice_channel.id}>."
