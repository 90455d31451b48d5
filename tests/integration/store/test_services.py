"""Services over the real store: the preference view the engine reads without I/O, the
retention purge, and the command-definition hash."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from discord import app_commands

from bot.interpretation.events import MemberPreference
from bot.service.command_sync import definitions_hash
from bot.service.preferences import MemberPreferences
from bot.service.retention import RetentionPurger
from bot.store import ConfigLayer, Store, StoredPreference, StoredSegment
from tests.support.waiting import eventually

GUILD, OTHER = 11, 22
ALICE, BOB = 101, 102


async def test_the_lookup_serves_stored_preferences_without_touching_the_store(
    store: Store,
) -> None:
    await store.update_member_preference(GUILD, ALICE, source_language="fr-FR")
    view = MemberPreferences(store)
    await view.load(GUILD)
    lookup = view.lookup(GUILD)
    await store.aclose()  # from here on any query would fail

    assert lookup(ALICE) == MemberPreference(source_language="fr-FR")
    assert lookup(BOB) == MemberPreference()


async def test_a_change_is_seen_by_a_lookup_handed_out_earlier(store: Store) -> None:
    view = MemberPreferences(store)
    await view.load(GUILD)
    lookup = view.lookup(GUILD)

    await view.update(GUILD, ALICE, opted_out=True)
    assert lookup(ALICE).opted_out
    await view.update(GUILD, ALICE, opted_out=False)
    assert lookup(ALICE) == MemberPreference()
    assert await store.member_preferences(GUILD) == {}


async def test_views_are_per_guild(store: Store) -> None:
    view = MemberPreferences(store)
    await view.update(GUILD, ALICE, voice="male")
    await view.load(OTHER)
    assert view.lookup(OTHER)(ALICE) == MemberPreference()
    assert view.lookup(GUILD)(ALICE).voice_type == "male"


async def test_concurrent_changes_of_different_choices_all_survive(store: Store) -> None:
    view = MemberPreferences(store)
    await asyncio.gather(view.update(GUILD, ALICE, source_language="fr-FR"),
                         view.update(GUILD, ALICE, voice="male"),
                         view.update(GUILD, ALICE, opted_out=True))
    both = StoredPreference(source_language="fr-FR", voice="male", opted_out=True)
    assert await store.member_preference(GUILD, ALICE) == both
    assert view.lookup(GUILD)(ALICE) == MemberPreference(opted_out=True,
                                                         source_language="fr-FR",
                                                         voice_type="male")


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def cycle_guilds(view: MemberPreferences, clock: ManualClock, count: int) -> list[int]:
    """``count`` other guilds, one a second: each loaded for a run that reads and ends;
    every hundredth has a member change their voice (``/interpret me``). Their ids."""
    guilds = [1_000_000 + n for n in range(count)]
    for n, guild in enumerate(guilds):
        clock.now += 1.0
        await view.load(guild)
        view.lookup(guild)(ALICE)
        if n % 100 == 0:
            await view.update(guild, ALICE, voice="male")
    return guilds


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_ten_thousand_guilds_leave_only_the_recently_used_ones_loaded(
    store: Store,
) -> None:
    clock = ManualClock()
    view = MemberPreferences(store, idle_s=60.0, clock=clock)

    guilds = await cycle_guilds(view, clock, 10_000)

    assert view.held <= 61
    await view.load(guilds[0])  # forgotten long ago: read from the store again
    assert view.lookup(guilds[0])(ALICE).voice_type == "male"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_run_keeps_its_guild_loaded_and_sees_changes_however_long_it_lasts(
    store: Store,
) -> None:
    clock = ManualClock()
    view = MemberPreferences(store, idle_s=10.0, clock=clock)
    await view.load(GUILD)
    run_lookup = view.lookup(GUILD)

    await cycle_guilds(view, clock, 100)  # ten times the idle time, 100 guilds
    await view.update(GUILD, ALICE, opted_out=True)

    assert run_lookup(ALICE).opted_out
    assert view.held <= 12


async def test_reset_clears_language_and_voice_but_keeps_the_opt_out(store: Store) -> None:
    view = MemberPreferences(store)
    await view.update(GUILD, ALICE, source_language="de-DE", voice="male", opted_out=True)
    kept = await view.update(GUILD, ALICE, clear=frozenset({"source_language", "voice"}))
    assert kept == StoredPreference(opted_out=True)


async def test_the_purge_task_applies_retention_and_stops_cleanly(store: Store) -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    await store.update_server_config(GUILD, ConfigLayer(retention_days=2))
    for days in (1, 3):
        started = now - timedelta(days=days)
        await store.add_segment(StoredSegment(GUILD, 5, f"run-{days}", ALICE, "en-US",
                                              "es-ES", started, started, "x", None))
    purger = RetentionPurger(store, interval_s=3600, now=lambda: now)

    purger.start()
    await eventually(lambda: purger.purged)  # the first pass runs at start
    await purger.aclose()

    assert purger.purged == 1
    assert await store.last_run_id(GUILD) == "run-1"
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "retention:purge"]


def test_the_definitions_hash_ignores_registration_order() -> None:
    def tree(*names: str) -> app_commands.CommandTree:  # type: ignore[type-arg]
        from discord import Client, Intents
        t: app_commands.CommandTree = app_commands.CommandTree(  # type: ignore[type-arg]
            Client(intents=Intents.none()))
        for name in names:
            async def callback(interaction: object) -> None: ...
            t.add_command(app_commands.Command(name=name, description=name,
                                               callback=callback))  # type: ignore[arg-type]
        return t

    assert definitions_hash(tree("a", "b")) == definitions_hash(tree("b", "a"))
    assert definitions_hash(tree("a", "b")) != definitions_hash(tree("a", "c"))
