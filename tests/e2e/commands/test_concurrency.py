"""Commands fired at the same time end in exactly one run or a plain refusal.

Each race fires its commands through the fake Discord at once (one ``gather``), as two
people clicking together would, and runs ``ROUNDS`` times in a loop. After every round
the bot must agree with itself and with Discord: a run is registered exactly when the
bot is in voice, its engine is the manager's, its transcript writer is the only one
open; with no run, nothing of a run is left (no writer, no voice client, no task).
Every answer is a plain sentence (never a bug id), no ERROR is logged, and every run
that ended got exactly one summary.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.service.runs import Run, RunPhase
from bot.shutdown import REFUSAL, GracefulShutdown
from tests.e2e.commands.conftest import Interpret, interpret_bot, interpret_settings
from tests.fakes.discord.model import InteractionRecord
from tests.support.waiting import eventually

ROUNDS = 20
BUG = "Something went wrong"
OUR_TASKS = ("run:", "runs:", "manager:", "transcripts:")
STARTED = "Interpreting "
CANCELLED_BY_STOP = "The start was cancelled: stopped by Admin."


async def plain(interpret: Interpret, record: InteractionRecord) -> str:
    """The sentence a command ended with; never a bug report."""
    text = await interpret.answer(record)
    assert BUG not in text, text
    return text


def held(*owners: object) -> list[str]:
    """The non-empty maps and sets the run's owners keep (nothing may outlive a run)."""
    return [f"{type(owner).__name__}.{name}" for owner in owners
            for name, value in vars(owner).items()
            if isinstance(value, (dict, set)) and value]


def our_tasks() -> list[str]:
    return sorted(t.get_name() for t in asyncio.all_tasks()
                  if t.get_name().startswith(OUR_TASKS))


async def settled(interpret: Interpret) -> Run | None:
    """Wait until the guild's run and the bot's voice presence agree; the run, if any."""
    bot, fake = interpret.bot, interpret.fake
    runs, manager = bot.services.runs, bot.services.manager
    transcripts, guild_id = bot.services.transcripts, fake.guild.id

    def bot_in_voice() -> int | None:
        state = fake.guild.voice_states.get(fake.bot_user_id)
        return None if state is None else state.channel_id

    def consistent() -> bool:
        run = runs.active(guild_id)
        if run is None:
            return (bot_in_voice() is None and not bot.voice_clients and not manager.runs
                    and not manager.starting(guild_id) and not transcripts.open_runs()
                    and not our_tasks() and not held(manager, runs))
        return (run.phase is RunPhase.RUNNING and bot_in_voice() == run.voice_channel.id
                and manager.get(guild_id) is run.engine
                and transcripts.open_runs() == {run.run_id})

    try:
        await eventually(consistent, 20)
    except TimeoutError:
        run = runs.active(guild_id)
        raise AssertionError(
            f"inconsistent: run={run and (run.run_id, run.phase)} "
            f"voice={bot_in_voice()} clients={bot.voice_clients} "
            f"engines={manager.runs} writers={transcripts.open_runs()} "
            f"tasks={our_tasks()} held={held(manager, runs)}") from None
    return runs.active(guild_id)


async def running(interpret: Interpret) -> Run:
    """Start a run (no race) and return it once settled."""
    assert (await plain(interpret, await start(interpret))).startswith(STARTED)
    run = await settled(interpret)
    assert run is not None
    return run


async def reset(interpret: Interpret) -> None:
    if interpret.bot.services.runs.active(interpret.fake.guild.id) is not None:
        stopped = await plain(interpret, await interpret.invoke("stop"))
        assert stopped.startswith("Stopped interpreting")
    assert await settled(interpret) is None


def summaries(interpret: Interpret) -> list[str]:
    return [m.content for m in interpret.bot_messages() if " ended: " in m.content]


async def each_run_summarised_once(interpret: Interpret, seen: set[str]) -> None:
    def ids() -> list[str]:
        return [m.group(1) for text in summaries(interpret)
                if (m := re.search(r"Run `([0-9a-f]+)`", text))]

    await eventually(lambda: seen <= set(ids()), 10)
    assert len(ids()) == len(set(ids())), "a run was summarised twice"


Race = Callable[[Interpret, int], Awaitable[Run | None]]


async def race_rounds(interpret: Interpret, caplog: pytest.LogCaptureFixture,
                      race: Race) -> None:
    """``ROUNDS`` rounds of ``race`` on one bot, each checked and reset."""
    caplog.set_level(logging.WARNING)
    seen: set[str] = set()
    for round_no in range(ROUNDS):
        run = await race(interpret, round_no)
        if run is not None:
            seen.add(run.run_id)
        await reset(interpret)
    await each_run_summarised_once(interpret, seen)
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def start(interpret: Interpret, **options: Any) -> Awaitable[InteractionRecord]:
    return interpret.invoke("start", **{"target": "es", **options})


# -- the races: one round each, on a bot with the admin (and alice) in voice -------------


async def two_starts_end_in_one_run_and_one_refusal(interpret: Interpret,
                                                   round_no: int) -> Run | None:
    first, second = await asyncio.gather(start(interpret), start(interpret))
    answers = sorted([await plain(interpret, first), await plain(interpret, second)],
                     key=lambda t: t.startswith(STARTED))
    assert answers[0].startswith(("I am already starting in", "I am already interpreting"))
    assert answers[1].startswith(STARTED)
    run = await settled(interpret)
    assert run is not None
    return run


async def a_start_and_a_stop_end_in_one_run_or_none(interpret: Interpret,
                                                   round_no: int) -> Run | None:
    records = await asyncio.gather(start(interpret), interpret.invoke("stop"))
    started, stopped = [await plain(interpret, record) for record in records]
    run = await settled(interpret)
    if stopped == "Nothing is being interpreted in this server.":
        assert started.startswith(STARTED)  # the stop came first
        assert run is not None
    else:
        assert stopped.startswith("Stopped interpreting")
        assert started == CANCELLED_BY_STOP or started.startswith(STARTED)
        assert run is None
    return run


async def a_stop_and_a_new_start_end_the_run_and_refuse_or_start_plainly(
        interpret: Interpret, round_no: int) -> Run | None:
    before = await running(interpret)
    records = await asyncio.gather(interpret.invoke("stop"), start(interpret))
    stopped, started = [await plain(interpret, record) for record in records]
    assert stopped.startswith("Stopped interpreting")
    assert started.startswith(("I am still leaving", "I am already interpreting", STARTED))
    after = await settled(interpret)
    assert after is not before
    assert (after is not None) == started.startswith(STARTED)
    return before


async def a_start_and_a_config_change_both_take_effect(interpret: Interpret,
                                                      round_no: int) -> Run | None:
    voice = interpret.fake.voice_channel
    target = ("fr", "de")[round_no % 2]
    started, configured = await asyncio.gather(
        start(interpret), interpret.invoke("config", channel=voice, target=target))
    assert (await plain(interpret, started)).startswith(STARTED)
    assert (await plain(interpret, configured)).startswith("Saved.")
    run = await settled(interpret)
    assert run is not None
    assert run.config.target_language == "es-ES"  # the command's own option wins
    layer = await interpret.bot.services.store.channel_config(interpret.fake.guild.id, voice.id)
    assert layer.target_language == {"fr": "fr-FR", "de": "de-DE"}[target]
    return run


async def a_start_and_a_members_opt_out_both_take_effect(interpret: Interpret,
                                                        round_no: int) -> Run | None:
    opt_out = round_no % 2 == 0
    started, me = await asyncio.gather(
        start(interpret), interpret.invoke("me", user="alice", opt_out=opt_out))
    assert (await plain(interpret, started)).startswith(STARTED)
    assert (await plain(interpret, me)).startswith("Saved")
    run = await settled(interpret)
    assert run is not None
    stored = await interpret.bot.services.preferences.get(interpret.fake.guild.id,
                                                          interpret.fake.member("alice").id)
    assert stored.opted_out is opt_out
    return run


async def a_start_while_its_caller_moves_channel_starts_in_one_of_them(
        interpret: Interpret, round_no: int) -> Run | None:
    fake = interpret.fake
    voice = fake.voice_channel
    other = next((c for c in fake.guild.channels.values() if c.name == "Other voice"), None)
    if other is None:
        other = await fake.add_channel("Other voice")
    here, there = (voice, other) if round_no % 2 == 0 else (other, voice)
    await fake.move_member("admin", here)
    started, _ = await asyncio.gather(start(interpret), fake.move_member("admin", there))
    assert (await plain(interpret, started)).startswith(STARTED)
    run = await settled(interpret)
    assert run is not None
    [joined] = [c for c in (here, there) if c.id == run.voice_channel.id]
    assert fake.bot_voice(joined) is not None
    return run


async def a_stop_while_the_bot_is_kicked_from_voice_ends_the_run_once(
        interpret: Interpret, round_no: int) -> Run | None:
    run = await running(interpret)
    record, _ = await asyncio.gather(interpret.invoke("stop"),
                                     interpret.fake.move_member("interpret-bot", None))
    stopped = await plain(interpret, record)
    assert stopped.startswith(("Stopped interpreting", "Nothing is being interpreted"))
    assert await settled(interpret) is None
    return run


RACES = [two_starts_end_in_one_run_and_one_refusal,
         a_start_and_a_stop_end_in_one_run_or_none,
         a_stop_and_a_new_start_end_the_run_and_refuse_or_start_plainly,
         a_start_and_a_config_change_both_take_effect,
         a_start_and_a_members_opt_out_both_take_effect,
         a_start_while_its_caller_moves_channel_starts_in_one_of_them,
         a_stop_while_the_bot_is_kicked_from_voice_ends_the_run_once]


@pytest.mark.parametrize("race", RACES, ids=[race.__name__ for race in RACES])
async def test_commands_fired_together_end_in_one_run_or_a_plain_refusal(
    interpret: Interpret, caplog: pytest.LogCaptureFixture, race: Race,
) -> None:
    await interpret.join("admin", "alice")
    await race_rounds(interpret, caplog, race)


async def test_a_start_and_a_sigterm_at_once_end_with_a_plain_answer_and_no_run(
    interpret: Interpret, caplog: pytest.LogCaptureFixture,
) -> None:
    """The shutdown closes the bot, so each round has a bot of its own."""
    caplog.set_level(logging.WARNING)
    fake = interpret.fake
    await interpret.join("admin")
    await interpret.bot.close()  # the fixture's bot; each round makes its own
    for round_no in range(ROUNDS):
        settings = interpret_settings(fake, interpret.simulator,
                                      interpret.tmp_path / f"round-{round_no}")
        async with interpret_bot(fake, settings, interpret.clock) as bot:
            shutdown = GracefulShutdown(bot, timeout_s=30)
            # Discord's own deadline: an interaction the bot never saw fails after 3 s.
            started = asyncio.create_task(start(interpret, within=3.0))
            for _ in range(round_no % 4):  # vary where the two meet
                await asyncio.sleep(0)
            on_time = await shutdown.run()
            assert on_time
            try:
                answer = await plain(interpret, await started)
            except TimeoutError:
                answer = None  # the bot was gone before the interaction reached it
            assert answer is None or answer == REFUSAL or answer.startswith(STARTED)
            assert fake.bot_voice() is None
            assert not bot.voice_clients
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
