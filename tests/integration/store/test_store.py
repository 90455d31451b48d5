"""The store on both backends: a SQLite file and a real PostgreSQL server.

Every test here runs twice (``[sqlite]``, ``[postgresql]``) through the
``database_url`` fixture.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.store import ConfigError, ConfigLayer, Store, StoredPreference, StoredSegment
from bot.store.migrate import current_revision, head_revision
from bot.store.tables import Base, UtcDateTime

GUILD, OTHER_GUILD = 1_100_000_000_000_000_001, 1_100_000_000_000_000_002
VOICE, OTHER_VOICE = 2_200_000_000_000_000_001, 2_200_000_000_000_000_002
ALICE, BOB = 3_300_000_000_000_000_001, 3_300_000_000_000_000_002
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


# transcript_segment as revision 0001 created it.
_SEGMENT_0001 = sa.table(
    "transcript_segment", *(sa.column(name) for name in (
        "guild_id", "voice_channel_id", "run_id", "member_id", "source_language",
        "target_language", "original", "translation")),
    sa.column("started_at", UtcDateTime()), sa.column("ended_at", UtcDateTime()))


def segment(run: str = "run-1", *, guild: int = GUILD, member: int | None = ALICE,
            start_s: float = 0.0, length_s: float = 1.5, text: str = "hello",
            at: datetime = T0) -> StoredSegment:
    started = at + timedelta(seconds=start_s)
    return StoredSegment(guild, VOICE, run, member, "en-US", "es-ES", started,
                         started + timedelta(seconds=length_s), text, f"[es] {text}")


async def test_opening_applies_the_migrations_up_to_head(store: Store) -> None:
    assert await current_revision(store.engine) == head_revision()

    async with store.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= tables


def schema_differences(connection: Connection) -> list[Any]:
    """What Alembic's autogenerate would change to bring the database to the models
    (tables, columns, types, nullability, server defaults, indexes, unique and foreign
    keys), plus the primary keys, which autogenerate does not compare."""
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True})
    differences: list[Any] = list(compare_metadata(context, Base.metadata))
    inspector = inspect(connection)
    for name, table in Base.metadata.tables.items():
        migrated = inspector.get_pk_constraint(name)["constrained_columns"]
        declared = [column.name for column in table.primary_key.columns]
        if migrated != declared:
            differences.append(("primary key", name, migrated, declared))
    return differences


async def test_the_schema_migrated_to_head_matches_the_models(store: Store) -> None:
    async with store.engine.connect() as conn:
        assert await conn.run_sync(schema_differences) == []


async def test_reopening_a_migrated_database_keeps_its_rows(database_url: str) -> None:
    async with await Store.open(database_url) as first:
        await first.update_server_config(GUILD, ConfigLayer(target_language="es"))
    async with await Store.open(database_url) as second:
        assert (await second.server_config(GUILD)).target_language == "es-ES"
        assert await current_revision(second.engine) == head_revision()


async def test_an_unconfigured_guild_has_empty_layers(store: Store) -> None:
    assert await store.server_config(GUILD) == ConfigLayer()
    assert await store.channel_config(GUILD, VOICE) == ConfigLayer()


async def test_server_settings_merge_and_are_normalised(store: Store) -> None:
    await store.update_server_config(GUILD, ConfigLayer(target_language="es", voice="Female"))
    layer = await store.update_server_config(GUILD, ConfigLayer(max_speakers=3))
    assert layer == ConfigLayer(target_language="es-ES", voice="female", max_speakers=3)
    assert await store.server_config(GUILD) == layer


async def test_channel_settings_are_kept_per_channel(store: Store) -> None:
    await store.update_channel_config(GUILD, VOICE, ConfigLayer(target_language="fr-fr",
                                                                play_audio=False))
    assert await store.channel_config(GUILD, VOICE) == ConfigLayer(target_language="fr-FR",
                                                                   play_audio=False)
    assert await store.channel_config(GUILD, OTHER_VOICE) == ConfigLayer()
    assert await store.configured_channels(GUILD) == [VOICE]


async def test_concurrent_edits_of_different_server_settings_all_survive(store: Store) -> None:
    edits = (ConfigLayer(target_language="de"), ConfigLayer(voice="male"),
             ConfigLayer(max_speakers=3), ConfigLayer(context="Ferris"),
             ConfigLayer(retention_days=30))
    await asyncio.gather(*(store.update_server_config(GUILD, edit) for edit in edits))
    assert await store.server_config(GUILD) == ConfigLayer(
        target_language="de-DE", voice="male", max_speakers=3, context="Ferris",
        retention_days=30)


async def test_concurrent_edits_of_different_channel_settings_all_survive(store: Store) -> None:
    edits = (ConfigLayer(target_language="de"), ConfigLayer(voice="male"),
             ConfigLayer(max_speakers=3), ConfigLayer(manager_role_id=ALICE),
             ConfigLayer(play_audio=False))
    await asyncio.gather(*(store.update_channel_config(GUILD, VOICE, edit) for edit in edits))
    assert await store.channel_config(GUILD, VOICE) == ConfigLayer(
        target_language="de-DE", voice="male", max_speakers=3, manager_role_id=ALICE,
        play_audio=False)


async def test_clearing_a_setting_unsets_that_one_only(store: Store) -> None:
    await store.update_server_config(GUILD, ConfigLayer(manager_role_id=ALICE, voice="male",
                                                        context="Ferris"))
    layer = await store.update_server_config(GUILD, ConfigLayer(), clear={"manager_role_id"})
    assert layer == ConfigLayer(voice="male", context="Ferris")
    assert await store.server_config(GUILD) == layer


async def test_a_channel_with_every_setting_cleared_has_no_settings_left(store: Store) -> None:
    await store.update_channel_config(GUILD, VOICE, ConfigLayer(context="Ferris"))
    cleared = await store.update_channel_config(GUILD, VOICE, ConfigLayer(), clear={"context"})
    assert cleared == ConfigLayer()
    assert await store.configured_channels(GUILD) == []


async def test_invalid_values_are_refused_and_nothing_is_written(store: Store) -> None:
    with pytest.raises(ConfigError, match="Unsupported language"):
        await store.update_server_config(GUILD, ConfigLayer(target_language="klingon"))
    with pytest.raises(ConfigError, match="between 1 and 25"):
        await store.update_channel_config(GUILD, VOICE, ConfigLayer(max_speakers=0))
    assert await store.server_config(GUILD) == ConfigLayer()
    assert await store.channel_config(GUILD, VOICE) == ConfigLayer()


async def test_reset_forgets_one_scope_only(store: Store) -> None:
    await store.update_server_config(GUILD, ConfigLayer(target_language="de-DE"))
    await store.update_channel_config(GUILD, VOICE, ConfigLayer(target_language="fr-FR"))
    assert await store.reset_channel_config(GUILD, VOICE)
    assert not await store.reset_channel_config(GUILD, VOICE)
    assert await store.channel_config(GUILD, VOICE) == ConfigLayer()
    assert (await store.server_config(GUILD)).target_language == "de-DE"


async def test_a_guild_cannot_read_or_change_another_guilds_configuration(store: Store) -> None:
    await store.update_server_config(GUILD, ConfigLayer(target_language="de-DE"))
    await store.update_channel_config(GUILD, VOICE, ConfigLayer(target_language="fr-FR"))

    # The other guild asks with the first guild's channel id: it sees nothing...
    assert await store.channel_config(OTHER_GUILD, VOICE) == ConfigLayer()
    assert await store.server_config(OTHER_GUILD) == ConfigLayer()
    assert await store.configured_channels(OTHER_GUILD) == []
    # ...and writing or resetting under its own id leaves the first guild's rows alone.
    await store.update_channel_config(OTHER_GUILD, VOICE, ConfigLayer(target_language="it"))
    assert not await store.reset_server_config(OTHER_GUILD)
    await store.reset_channel_config(OTHER_GUILD, VOICE)
    assert (await store.channel_config(GUILD, VOICE)).target_language == "fr-FR"
    assert (await store.server_config(GUILD)).target_language == "de-DE"


async def test_member_preferences_are_per_guild(store: Store) -> None:
    await store.update_member_preference(GUILD, ALICE, source_language="fr-FR")
    await store.update_member_preference(GUILD, BOB, opted_out=True)
    await store.update_member_preference(OTHER_GUILD, ALICE, voice="male")

    assert await store.member_preferences(GUILD) == {
        ALICE: StoredPreference(source_language="fr-FR"),
        BOB: StoredPreference(opted_out=True)}
    assert await store.member_preference(OTHER_GUILD, ALICE) == StoredPreference(voice="male")
    assert await store.member_preference(OTHER_GUILD, BOB) == StoredPreference()


async def test_a_preference_back_to_the_defaults_removes_the_row(store: Store) -> None:
    await store.update_member_preference(GUILD, ALICE, voice="male", opted_out=True)
    await store.update_member_preference(GUILD, ALICE, opted_out=False)
    assert await store.update_member_preference(GUILD, ALICE, clear={"voice"}) == \
        StoredPreference()
    assert await store.member_preferences(GUILD) == {}


async def test_the_command_hash_is_kept(store: Store) -> None:
    assert await store.command_hash() is None
    await store.set_command_hash("a" * 64)
    await store.set_command_hash("b" * 64)
    assert await store.command_hash() == "b" * 64


async def test_segments_come_back_in_start_order_with_aware_utc_times(store: Store) -> None:
    later = segment(start_s=5.0, text="second")
    earlier = segment(start_s=1.0, text="first", member=None)
    await store.add_segment(later)
    await store.add_segment(earlier)
    await store.add_segment(segment("run-2", start_s=0.5))

    got = await store.segments(GUILD, "run-1")
    assert got == [earlier, later]
    assert all(s.started_at.tzinfo is UTC and s.ended_at.tzinfo is UTC for s in got)


async def test_a_numbered_segment_written_again_is_stored_once(store: Store) -> None:
    # A write retried because its answer was lost after it committed.
    first = replace(segment(text="first"), seq=1)
    second = replace(segment(start_s=2.0, text="second"), seq=2)
    for seg in (first, first, second, first):
        await store.add_segment(seg)
    await store.add_segment(replace(segment("run-2", text="first of run 2"), seq=1))

    assert await store.segments(GUILD, "run-1") == [first, second]
    assert await store.count_segments(GUILD) == 3


async def test_segment_times_in_another_zone_are_stored_as_the_same_instant(
    store: Store,
) -> None:
    from zoneinfo import ZoneInfo
    madrid = T0.astimezone(ZoneInfo("Europe/Madrid"))
    await store.add_segment(segment(at=madrid))
    [got] = await store.segments(GUILD, "run-1")
    assert got.started_at == T0
    assert got.started_at.utcoffset() == timedelta(0)


async def test_segments_of_another_guild_are_invisible(store: Store) -> None:
    await store.add_segment(segment(guild=OTHER_GUILD))
    assert await store.segments(GUILD, "run-1") == []
    assert await store.last_run_id(GUILD) is None


async def test_last_run_id_is_the_run_of_the_latest_segment(store: Store) -> None:
    await store.add_segment(segment("old", at=T0))
    await store.add_segment(segment("new", at=T0 + timedelta(hours=1)))
    await store.add_segment(segment("other", guild=OTHER_GUILD, at=T0 + timedelta(hours=2)))
    assert await store.last_run_id(GUILD) == "new"


async def test_purge_before_a_cutoff_deletes_segments_that_ended_earlier(store: Store) -> None:
    await store.add_segment(segment("a", at=T0))
    await store.add_segment(segment("b", at=T0 + timedelta(days=2)))
    await store.add_segment(segment("c", guild=OTHER_GUILD, at=T0))

    assert await store.purge_segments_before(T0 + timedelta(days=1)) == 2
    assert await store.last_run_id(GUILD) == "b"
    assert await store.last_run_id(OTHER_GUILD) is None


async def test_purge_expired_applies_each_guilds_retention(store: Store) -> None:
    now = T0 + timedelta(days=10)
    await store.update_server_config(OTHER_GUILD, ConfigLayer(retention_days=1))
    for guild in (GUILD, OTHER_GUILD):
        await store.add_segment(segment("eight-days", guild=guild, at=now - timedelta(days=8)))
        await store.add_segment(segment("two-days", guild=guild, at=now - timedelta(days=2)))

    assert await store.purge_expired(now) == 3  # default 7 days: one; 1 day: both
    assert await store.last_run_id(GUILD) == "two-days"
    assert await store.count_segments(GUILD) == 1
    assert await store.count_segments(OTHER_GUILD) == 0


async def test_forget_member_deletes_only_that_member_in_that_guild(store: Store) -> None:
    await store.add_segment(segment(member=ALICE))
    await store.add_segment(segment(member=BOB, start_s=2))
    await store.add_segment(segment(member=ALICE, guild=OTHER_GUILD))

    assert await store.forget_member(GUILD, ALICE) == 1
    assert [s.member_id for s in await store.segments(GUILD, "run-1")] == [BOB]
    assert [s.member_id for s in await store.segments(OTHER_GUILD, "run-1")] == [ALICE]


async def test_a_members_caption_language_is_kept_until_cleared(store: Store) -> None:
    stored = await store.update_member_preference(GUILD, ALICE, caption_language="fr-FR")
    assert stored == StoredPreference(caption_language="fr-FR")
    assert await store.member_preferences(GUILD) == {ALICE: stored}

    cleared = await store.update_member_preference(GUILD, ALICE, clear={"caption_language"})
    assert cleared == StoredPreference()
    assert await store.member_preferences(GUILD) == {}  # nothing left: no row


async def test_forget_and_retention_delete_the_segments_of_every_caption_thread(
    store: Store,
) -> None:
    own = segment("run-1", member=ALICE)
    await store.add_segment(own)
    for language in ("fr-FR", "de-DE"):
        await store.add_segment(dataclasses.replace(own, target_language=language,
                                                    caption_language=language))
    await store.add_segment(segment("run-2", member=BOB, at=T0 - timedelta(days=30)))
    await store.add_segment(dataclasses.replace(
        segment("run-2", member=BOB, at=T0 - timedelta(days=30)), caption_language="fr-FR",
        target_language="fr-FR"))

    assert {s.caption_language for s in await store.segments(GUILD, "run-1")} == {
        None, "fr-FR", "de-DE"}
    assert await store.forget_member(GUILD, ALICE) == 3
    assert await store.purge_expired(T0) == 2
    assert await store.count_segments(GUILD) == 0


async def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        StoredSegment(GUILD, VOICE, "r", ALICE, "en-US", "es-ES",
                      datetime(2025, 1, 1), datetime(2025, 1, 1), "x", None)


async def test_stores_opening_at_once_migrate_once(database_url: str) -> None:
    stores = await asyncio.gather(*(Store.open(database_url) for _ in range(3)))
    try:
        for opened in stores:
            assert await current_revision(opened.engine) == head_revision()
        await stores[0].update_server_config(GUILD, ConfigLayer(voice="male"))
        assert (await stores[2].server_config(GUILD)).voice == "male"
    finally:
        for opened in stores:
            await opened.aclose()


async def test_a_database_at_an_older_revision_is_upgraded_keeping_its_rows(
    database_url: str,
) -> None:
    from alembic import command

    from bot.store.migrate import alembic_config

    async with await Store.open(database_url) as first:
        def downgrade(connection: object) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")

        async with first.engine.begin() as conn:
            await conn.run_sync(downgrade)
            # Written as revision 0001 knew the table (today's model has more columns).
            seg = segment("kept")
            await conn.execute(sa.insert(_SEGMENT_0001).values(
                guild_id=seg.guild_id, voice_channel_id=seg.voice_channel_id,
                run_id=seg.run_id, member_id=seg.member_id,
                source_language=seg.source_language, target_language=seg.target_language,
                started_at=seg.started_at, ended_at=seg.ended_at, original=seg.original,
                translation=seg.translation))
        assert await current_revision(first.engine) == "0001"

    async with await Store.open(database_url) as upgraded:
        assert await current_revision(upgraded.engine) == head_revision()
        await upgraded.update_channel_config(GUILD, VOICE, ConfigLayer(live_captions=True,
                                                                       context="Ferris"))
        upgraded_layer = await upgraded.channel_config(GUILD, VOICE)
        assert upgraded_layer.live_captions is True
        assert upgraded_layer.context == "Ferris"
        assert await upgraded.last_run_id(GUILD) == "kept"
