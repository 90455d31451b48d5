"""The store: per-guild settings, member preferences, command sync, transcript segments.

One :class:`Store` per process, opened with :meth:`Store.open` (which applies
the migrations) and closed with :meth:`Store.aclose`. Every method is one short
transaction and takes the guild it concerns; none of them can reach a row of
another guild (a channel id of another guild simply finds nothing). The only
application-wide row is the command-sync hash.

Timeouts: connecting and every statement are bounded by the drivers
(``asyncpg`` connect and command timeouts, SQLite's busy timeout) and the pool
wait by ``pool_timeout``; a database that stops answering surfaces as an
exception, never as a hang: :class:`~bot.store.errors.StoreUnavailable` from every
method (``@outage_aware``), whatever the driver raised, so callers can tell an outage
from a bug.

Segments are written idempotently: one that has its place in its run (``seq``) is
inserted with ``ON CONFLICT DO NOTHING`` on ``(guild_id, run_id, seq)``, so a write
retried after its answer was lost (the database went away after committing) is not
stored twice.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Self

from sqlalchemy import ColumnElement, delete, event, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)

from bot.store import migrate
from bot.store.config import DEFAULTS, FIELDS, ConfigLayer, validate_layer
from bot.store.errors import outage_aware
from bot.store.segments import StoredSegment
from bot.store.tables import (
    ChannelConfigRow,
    CommandSyncRow,
    GuildConfigRow,
    MemberPreferenceRow,
    SegmentRow,
)
from bot.store.urls import async_url, sqlite_file

log = logging.getLogger(__name__)

IO_TIMEOUT_S: Final = 10.0
_CHANNEL_FIELDS: Final = tuple(f for f in FIELDS if f != "retention_days")


@dataclass(frozen=True, slots=True)
class StoredPreference:
    """A member's own choices in one guild; ``None`` = use the channel's setting."""

    source_language: str | None = None
    voice: str | None = None
    opted_out: bool = False
    caption_language: str | None = None
    """The language they read captions in (``None``: no captions of their own)."""


_PREFERENCE_CLEARABLE: Final = ("source_language", "voice", "caption_language")


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._closed = False

    @classmethod
    async def open(cls, database_url: str, *, apply_migrations: bool = True) -> Self:
        """Connect to ``database_url`` (``sqlite:///...`` or ``postgresql://...``) and
        bring its schema up to date."""
        url = async_url(database_url)
        path = sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            connect_args: dict[str, Any] = {"timeout": IO_TIMEOUT_S}
        else:
            connect_args = {"timeout": IO_TIMEOUT_S, "command_timeout": IO_TIMEOUT_S}
        # hide_parameters: a failed statement's exception text (logged with its
        # traceback) would otherwise carry the values written, a session context too.
        engine = create_async_engine(url, connect_args=connect_args, pool_pre_ping=True,
                                     pool_timeout=IO_TIMEOUT_S, hide_parameters=True)
        if path is not None:
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        store = cls(engine)
        try:
            if apply_migrations:
                await migrate.upgrade(engine)
        except BaseException:
            await engine.dispose()
            raise
        log.info("store open (%s, schema %s)", url.get_backend_name(), migrate.head_revision())
        return store

    async def aclose(self) -> None:
        """Close every connection. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        await self._engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @outage_aware
    async def ping(self) -> None:
        """One round trip to the database (the health check); raises when it fails."""
        async with self._engine.connect() as connection:
            await connection.execute(select(1))

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def backend(self) -> str:
        return self._engine.dialect.name

    # -- settings ------------------------------------------------------------------

    @outage_aware
    async def server_config(self, guild_id: int) -> ConfigLayer:
        async with self._sessions() as session:
            row = await session.get(GuildConfigRow, guild_id)
            return _layer(row, FIELDS)

    @outage_aware
    async def channel_config(self, guild_id: int, channel_id: int) -> ConfigLayer:
        async with self._sessions() as session:
            row = await session.get(ChannelConfigRow, (guild_id, channel_id))
            return _layer(row, _CHANNEL_FIELDS)

    @outage_aware
    async def configured_channels(self, guild_id: int) -> list[int]:
        """Ids of this guild's channels that have settings of their own."""
        async with self._sessions() as session:
            result = await session.scalars(
                select(ChannelConfigRow.channel_id)
                .where(ChannelConfigRow.guild_id == guild_id)
                .order_by(ChannelConfigRow.channel_id))
            return list(result)

    @outage_aware
    async def update_server_config(self, guild_id: int, changes: ConfigLayer, *,
                                   clear: Collection[str] = ()) -> ConfigLayer:
        """Set the non-``None`` fields of ``changes`` and unset the fields named in
        ``clear`` at server scope; returns the layer as stored."""
        assignments = _assignments(changes, clear, FIELDS)
        row = await self._write(GuildConfigRow, {"guild_id": guild_id}, assignments,
                                empty=_unset(GuildConfigRow, FIELDS))
        return _layer(row, FIELDS)

    @outage_aware
    async def update_channel_config(self, guild_id: int, channel_id: int,
                                    changes: ConfigLayer, *,
                                    clear: Collection[str] = ()) -> ConfigLayer:
        """Set the non-``None`` fields of ``changes`` and unset the fields named in
        ``clear`` for one channel; returns the layer as stored."""
        if changes.retention_days is not None or "retention_days" in clear:
            raise ValueError("retention_days is a server setting")
        assignments = _assignments(changes, clear, _CHANNEL_FIELDS)
        row = await self._write(ChannelConfigRow,
                                {"guild_id": guild_id, "channel_id": channel_id}, assignments,
                                empty=_unset(ChannelConfigRow, _CHANNEL_FIELDS))
        return _layer(row, _CHANNEL_FIELDS)

    @outage_aware
    async def reset_server_config(self, guild_id: int) -> bool:
        """Forget every server-scope setting; ``True`` if there were any."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(GuildConfigRow).where(GuildConfigRow.guild_id == guild_id))
            return bool(getattr(result, "rowcount", 0))

    @outage_aware
    async def reset_channel_config(self, guild_id: int, channel_id: int) -> bool:
        """Forget one channel's settings; ``True`` if it had any."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ChannelConfigRow).where(ChannelConfigRow.guild_id == guild_id,
                                               ChannelConfigRow.channel_id == channel_id))
            return bool(getattr(result, "rowcount", 0))

    @outage_aware
    async def retention_days(self, guild_id: int) -> int:
        value = (await self.server_config(guild_id)).retention_days
        return int(DEFAULTS["retention_days"] if value is None else value)

    # -- member preferences --------------------------------------------------------

    @outage_aware
    async def member_preferences(self, guild_id: int) -> dict[int, StoredPreference]:
        """Every member of the guild who chose something, by member id."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(MemberPreferenceRow).where(MemberPreferenceRow.guild_id == guild_id))
            return {row.member_id: _preference(row) for row in rows}

    @outage_aware
    async def member_preference(self, guild_id: int, member_id: int) -> StoredPreference:
        async with self._sessions() as session:
            row = await session.get(MemberPreferenceRow, (guild_id, member_id))
            return StoredPreference() if row is None else _preference(row)

    @outage_aware
    async def update_member_preference(self, guild_id: int, member_id: int, *,
                                       source_language: str | None = None,
                                       voice: str | None = None,
                                       opted_out: bool | None = None,
                                       caption_language: str | None = None,
                                       clear: Collection[str] = ()) -> StoredPreference:
        """Set the given choices of the member in this guild and unset those named in
        ``clear`` (``source_language``, ``voice``, ``caption_language``); returns the
        preference as stored (a default one leaves no row)."""
        given = {"source_language": source_language, "voice": voice, "opted_out": opted_out,
                 "caption_language": caption_language}
        assignments = _cleared({name: value for name, value in given.items()
                                if value is not None}, clear, _PREFERENCE_CLEARABLE)
        row = await self._write(
            MemberPreferenceRow, {"guild_id": guild_id, "member_id": member_id}, assignments,
            empty=(*_unset(MemberPreferenceRow, _PREFERENCE_CLEARABLE),
                   MemberPreferenceRow.opted_out.is_(False)),
            inserted={"opted_out": False})
        return StoredPreference() if row is None else _preference(row)

    # -- command sync --------------------------------------------------------------

    @outage_aware
    async def command_hash(self, scope: str = "global") -> str | None:
        """The hash of the command definitions last synced to Discord (``scope``:
        ``global`` or a guild id for guild-synced commands)."""
        async with self._sessions() as session:
            row = await session.get(CommandSyncRow, scope)
            return None if row is None else row.definitions_hash

    @outage_aware
    async def set_command_hash(self, definitions_hash: str, scope: str = "global") -> None:
        await self._upsert(CommandSyncRow, {"scope": scope},
                           {"definitions_hash": definitions_hash,
                            "synced_at": datetime.now(UTC)})

    # -- transcript segments -------------------------------------------------------

    @outage_aware
    async def add_segment(self, seg: StoredSegment) -> None:
        """Store ``seg``; one already stored (same guild, run and ``seq``) is left as it
        is, so a retried write never makes a second row."""
        values = dataclasses.asdict(seg)
        if seg.seq is None:
            del values["seq"]  # no place in a run to be unique by: a plain insert
            statement: Any = insert(SegmentRow).values(**values)
        else:
            dialect = sqlite if self.backend == "sqlite" else postgresql
            statement = dialect.insert(SegmentRow).values(**values).on_conflict_do_nothing(
                index_elements=["guild_id", "run_id", "seq"])
        async with self._sessions.begin() as session:
            await session.execute(statement)

    @outage_aware
    async def segments(self, guild_id: int, run_id: str) -> list[StoredSegment]:
        """One run's segments in this guild, ordered by start time."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(SegmentRow)
                .where(SegmentRow.guild_id == guild_id, SegmentRow.run_id == run_id)
                .order_by(SegmentRow.started_at, SegmentRow.id))
            return [_segment(row) for row in rows]

    @outage_aware
    async def last_run_id(self, guild_id: int) -> str | None:
        """The run of this guild's most recently started stored segment."""
        async with self._sessions() as session:
            return await session.scalar(
                select(SegmentRow.run_id)
                .where(SegmentRow.guild_id == guild_id)
                .order_by(SegmentRow.started_at.desc(), SegmentRow.id.desc())
                .limit(1))

    @outage_aware
    async def purge_segments_before(self, cutoff: datetime, *,
                                    guild_id: int | None = None) -> int:
        """Delete segments that ended before ``cutoff``: in every guild, or in ``guild_id``
        only. Returns how many were deleted. :meth:`purge_expired` applies each guild's
        own retention instead."""
        statement = delete(SegmentRow).where(SegmentRow.ended_at < _aware(cutoff))
        if guild_id is not None:
            statement = statement.where(SegmentRow.guild_id == guild_id)
        async with self._sessions.begin() as session:
            result = await session.execute(statement)
            return int(getattr(result, "rowcount", 0))

    @outage_aware
    async def purge_expired(self, now: datetime | None = None) -> int:
        """Apply every guild's retention (``retention_days``, default 7): delete the
        segments that ended more than that many days before ``now``."""
        now = _aware(now or datetime.now(UTC))
        default_days = int(DEFAULTS["retention_days"])
        async with self._sessions() as session:
            custom = {row.guild_id: row.retention_days for row in await session.scalars(
                select(GuildConfigRow).where(GuildConfigRow.retention_days.is_not(None)))}
            guilds = set(await session.scalars(select(SegmentRow.guild_id).distinct()))
        deleted = 0
        for guild_id in sorted(guilds):
            days = custom.get(guild_id)
            days = default_days if days is None else days
            deleted += await self.purge_segments_before(now - timedelta(days=days),
                                                        guild_id=guild_id)
        return deleted

    @outage_aware
    async def forget_member(self, guild_id: int, member_id: int) -> int:
        """Delete the member's stored segments in this guild; returns how many."""
        async with self._sessions.begin() as session:
            result = await session.execute(delete(SegmentRow).where(
                SegmentRow.guild_id == guild_id, SegmentRow.member_id == member_id))
            return int(getattr(result, "rowcount", 0))

    @outage_aware
    async def count_segments(self, guild_id: int) -> int:
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(SegmentRow)
                .where(SegmentRow.guild_id == guild_id))
            return int(count or 0)

    # -- helpers -------------------------------------------------------------------

    async def _upsert(self, table: Any, keys: dict[str, Any], values: dict[str, Any]) -> None:
        async with self._sessions.begin() as session:
            await session.execute(self._upsert_statement(table, keys, values))

    def _upsert_statement(self, table: Any, keys: dict[str, Any], values: dict[str, Any],
                          inserted: dict[str, Any] | None = None) -> Any:
        """``INSERT .. ON CONFLICT (keys) DO UPDATE SET`` exactly ``values``: one statement,
        so the row's other columns keep whatever a concurrent write put there.
        ``inserted`` adds values for a new row only (e.g. a NOT NULL column's default)."""
        dialect = sqlite if self.backend == "sqlite" else postgresql
        statement = dialect.insert(table).values(**{**(inserted or {}), **keys, **values})
        return statement.on_conflict_do_update(index_elements=list(keys), set_=values)

    async def _write(self, table: Any, keys: dict[str, Any], values: dict[str, Any], *,
                     empty: Sequence[ColumnElement[bool]],
                     inserted: dict[str, Any] | None = None) -> Any:
        """Write ``values`` into the row at ``keys`` (created if missing) and return the
        row as stored (``None``: no row). A row left with nothing set (``empty`` holds)
        is deleted in the same transaction, by a statement that re-checks it, so a
        concurrent write that set something keeps its row."""
        where = [getattr(table, name) == value for name, value in keys.items()]
        async with self._sessions.begin() as session:
            if not values:
                return await session.get(table, tuple(keys.values()))
            statement = self._upsert_statement(table, keys, values, inserted)
            row = (await session.execute(statement.returning(*table.__table__.c))).one()
            pruned = await session.execute(delete(table).where(*where, *empty))
            return None if getattr(pruned, "rowcount", 0) else row


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the transcript writer's inserts and the commands' reads overlap. The mode
    # is kept in the file, so only a database not yet in WAL is switched; switching
    # needs a lock SQLite does not wait for (the busy timeout does not apply), and
    # several processes opening a new file at once can meet another's migration: so
    # a bounded few retries (this runs once per new connection, at start-up).
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode")
        row = cursor.fetchone()
        if row is not None and str(row[0]).lower() == "wal":
            return
        deadline = time.monotonic() + IO_TIMEOUT_S
        while True:
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                return
            except Exception as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)
    finally:
        cursor.close()


def _assignments(changes: ConfigLayer, clear: Collection[str],
                 fields: tuple[str, ...]) -> dict[str, Any]:
    """The columns a settings edit writes: the set fields of ``changes`` (validated and
    normalised; :class:`ConfigError` when one is not) and ``None`` for those in ``clear``."""
    valid = validate_layer(changes)
    return _cleared({name: getattr(valid, name) for name in fields
                     if getattr(valid, name) is not None}, clear, fields)


def _cleared(assignments: dict[str, Any], clear: Collection[str],
             clearable: Collection[str]) -> dict[str, Any]:
    for name in clear:
        if name not in clearable or name in assignments:
            raise ValueError(f"{name} cannot be cleared here")  # the caller's bug
        assignments[name] = None
    return assignments


def _unset(table: Any, names: Iterable[str]) -> tuple[ColumnElement[bool], ...]:
    return tuple(getattr(table, name).is_(None) for name in names)


def _layer(row: Any, fields: tuple[str, ...]) -> ConfigLayer:
    if row is None:
        return ConfigLayer()
    return ConfigLayer(**{name: getattr(row, name) for name in fields})


def _preference(row: Any) -> StoredPreference:
    return StoredPreference(row.source_language, row.voice, bool(row.opted_out),
                            row.caption_language)


def _segment(row: SegmentRow) -> StoredSegment:
    return StoredSegment(
        guild_id=row.guild_id, voice_channel_id=row.voice_channel_id, run_id=row.run_id,
        member_id=row.member_id, source_language=row.source_language,
        target_language=row.target_language, started_at=row.started_at,
        ended_at=row.ended_at, original=row.original, translation=row.translation,
        seq=row.seq, caption_language=row.caption_language)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("use an aware datetime")
    return value.astimezone(UTC)
