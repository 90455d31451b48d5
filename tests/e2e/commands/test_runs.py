"""A run is one thing: one id, its own transcript, consent before audio, plain refusals.

Each spec goes through ``/interpret`` on the fake Discord, as a member would.
"""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from bot.observability import logs
from bot.shutdown import REFUSAL, GracefulShutdown
from tests.e2e.commands.conftest import Interpret
from tests.e2e.conftest import ALICE_HZ
from tests.fakes.discord.model import Channel, Message, Permission
from tests.fakes.pinch import DEFAULT_SCRIPT
from tests.support.waiting import eventually

HELLO, HOLA = DEFAULT_SCRIPT[0]


def thread_posts(interpret: Interpret) -> list[Message]:
    threads = interpret.fake.threads_in(interpret.fake.text_channel)
    return interpret.fake.messages_in(threads[-1]) if threads else []


def consent_path(channel: Channel) -> str:
    return rf"^/channels/{channel.id}/messages$"


def consent_notices(interpret: Interpret, channel: Channel) -> list[Message]:
    return [m for m in interpret.bot_messages(channel) if "sent to Pinch" in m.content]


async def test_two_starts_fired_together_make_one_run_whose_transcript_is_posted_and_stored(
    interpret: Interpret,
) -> None:
    await interpret.join("admin", "alice")

    records = await asyncio.gather(interpret.invoke("start", target="es"),
                                   interpret.invoke("start", target="es"))

    answers = sorted([await interpret.answer(r) for r in records],
                     key=lambda t: t.startswith("Interpreting"))
    assert answers[0].startswith(f"I am already starting in <#{interpret.fake.voice_channel.id}>")
    assert answers[1].startswith("Interpreting")
    await interpret.fake.wait_bot_voice_ready()
    await interpret.fake.wait_dave_ready()
    run = interpret.bot.services.runs.active(interpret.fake.guild.id)
    assert run is not None
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await eventually(lambda: any(HOLA in m.content for m in thread_posts(interpret)), 20)
    await interpret.invoke("stop")
    stored = await interpret.bot.services.store.segments(interpret.fake.guild.id, run.run_id)
    assert [(s.original, s.translation) for s in stored] == [(HELLO, HOLA)]
    assert interpret.bot.services.transcripts.unrouted == 0


async def test_a_stopped_runs_late_status_never_closes_the_next_runs_transcript(
    interpret: Interpret,
) -> None:
    await interpret.join("admin", "alice")
    await interpret.start(target="es")
    await interpret.invoke("stop")
    await interpret.start(target="es")
    run = interpret.bot.services.runs.active(interpret.fake.guild.id)
    assert run is not None

    await interpret.speak("alice", ALICE_HZ, 0.8)

    await eventually(lambda: any(HOLA in m.content for m in thread_posts(interpret)), 20)
    assert interpret.bot.services.transcripts.writer(run.run_id) is not None
    assert interpret.bot.services.transcripts.unrouted == 0


async def test_the_summary_the_export_the_store_and_every_log_line_of_a_run_share_one_id(
    interpret: Interpret, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.handler.addFilter(logs.ContextFilter())
    caplog.set_level(logging.INFO)
    await interpret.join("admin", "alice")
    await interpret.start(target="es")
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await eventually(lambda: any(HOLA in m.content for m in thread_posts(interpret)), 20)

    await interpret.invoke("stop")
    summary = await interpret.fake.wait_for(lambda: next(
        (m.content for m in interpret.bot_messages() if " ended: " in m.content), None), 10)
    export = await interpret.invoke("transcript")

    match = re.search(r"Run `([0-9a-f]+)`", summary)
    assert match is not None, summary
    run_id = match.group(1)
    assert export.original is not None
    [attachment] = export.original.attachments
    file_id = attachment["filename"].removeprefix("transcript-").removesuffix(".txt")
    assert run_id.startswith(file_id)
    assert await interpret.bot.services.store.segments(interpret.fake.guild.id, run_id)
    logged = {getattr(r, "run_id", None) for r in caplog.records} - {None}
    assert logged == {run_id}
    assert any(r.getMessage().startswith(f"run {run_id} started") for r in caplog.records)


async def test_no_audio_leaves_the_bot_before_the_consent_notice_is_posted(
    interpret: Interpret,
) -> None:
    voice = interpret.fake.voice_channel
    await interpret.join("admin", "alice")
    # Discord is slow to answer the notice (a rate limit, a busy shard): the message
    # exists, the bot has not heard back yet.
    interpret.fake.rest.answer_late("POST", consent_path(voice), seconds=3.0, times=1)

    starting = asyncio.create_task(interpret.start(target="es"))
    await eventually(lambda: consent_notices(interpret, voice), 10)

    assert interpret.fake.bot_voice_requests == []
    assert interpret.sessions() == []
    await starting
    assert [channel for _, _, channel in interpret.fake.bot_voice_requests] == [voice.id]


async def test_a_consent_notice_that_cannot_be_posted_means_nothing_was_ever_sent(
    interpret: Interpret,
) -> None:
    voice = interpret.fake.voice_channel
    await interpret.join("admin", "alice")
    # Discord refuses the notice though the bot's cache thinks it may post there.
    interpret.fake.set_bot_permission(voice, deny=int(Permission.SEND_MESSAGES))

    record = await interpret.invoke("start", target="es")

    assert await interpret.answer(record) == (
        f"I could not post the consent notice in <#{voice.id}>, so I did not start. Let me "
        "send messages there, then start again.")
    assert interpret.fake.bot_voice_requests == []
    assert interpret.sessions() == []
    assert interpret.bot.services.runs.active(interpret.fake.guild.id) is None


async def test_a_start_during_shutdown_is_refused_in_one_sentence(
    interpret: Interpret, caplog: pytest.LogCaptureFixture,
) -> None:
    fake = interpret.fake
    voice = fake.voice_channel
    await interpret.join("admin")
    other = await fake.add_guild("Other")
    there = next(c for c in other.channels.values() if c.name == "general")
    other_voice = next(c for c in other.channels.values() if c.name == "Voice")
    # A start under way (its notice slow to be answered) holds the shutdown's first step.
    fake.rest.answer_late("POST", consent_path(voice), seconds=3.0, times=1)
    first = asyncio.create_task(interpret.invoke("start", target="es"))
    await eventually(lambda: consent_notices(interpret, voice), 10)
    shutdown = asyncio.create_task(GracefulShutdown(interpret.bot, timeout_s=30).run())
    await eventually(lambda: interpret.bot.health.shutting_down, 5)

    second = await interpret.invoke("start", user=None, where=there, target="es",
                                    channel=other_voice)

    assert await interpret.answer(second) == REFUSAL
    assert await interpret.answer(await first) == REFUSAL
    assert await shutdown
    assert fake.bot_voice_requests == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_pair_run_started_by_the_command_names_its_thread_both_ways(
    interpret: Interpret,
) -> None:
    await interpret.join("admin")

    await interpret.start(target="es", source="en", mode="pair")

    [thread] = interpret.fake.threads_in(interpret.fake.text_channel)
    assert " · en-US ↔ es-ES · " in thread.name


async def test_a_one_way_run_after_a_pair_run_never_shares_its_thread(
    interpret: Interpret,
) -> None:
    await interpret.join("admin", "alice")
    await interpret.start(target="es", source="en", mode="pair")
    await interpret.speak("alice", ALICE_HZ, 0.8)
    await eventually(lambda: any(HOLA in m.content for m in thread_posts(interpret)), 20)
    await interpret.invoke("stop")

    await interpret.start(target="es", source="en")

    threads = interpret.fake.threads_in(interpret.fake.text_channel)
    pair_thread, one_way_thread = threads
    assert " · en-US ↔ es-ES · " in pair_thread.name
    assert " · en-US → es-ES · " in one_way_thread.name
