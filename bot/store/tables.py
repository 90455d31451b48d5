"""The database schema, as SQLAlchemy 2 declarative tables.

Every table but ``command_sync`` has ``guild_id`` in its primary key or its
first index column: the store never reads or writes a row without the guild
it belongs to. Discord ids are 64-bit (``BigInteger``). Times are stored as
UTC and always read back as aware UTC datetimes (:class:`UtcDateTime`), on
SQLite (which keeps no time zone) as on PostgreSQL.

The migrations in :mod:`bot.store.migrations` create exactly these tables (a test
runs Alembic's autogenerate comparison against a database migrated to head); they
never import from here: a change of these tables is a new migration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class _Settings:
    """Columns shared by the server and channel layers (all nullable: unset)."""

    target_language: Mapped[str | None] = mapped_column(String(16))
    source_language: Mapped[str | None] = mapped_column(String(16))
    voice: Mapped[str | None] = mapped_column(String(16))
    mode: Mapped[str | None] = mapped_column(String(16))
    transcript_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    play_audio: Mapped[bool | None] = mapped_column(Boolean)
    post_transcripts: Mapped[bool | None] = mapped_column(Boolean)
    live_captions: Mapped[bool | None] = mapped_column(Boolean)
    idle_leave_s: Mapped[int | None] = mapped_column(Integer)
    max_run_minutes: Mapped[int | None] = mapped_column(Integer)
    max_speakers: Mapped[int | None] = mapped_column(Integer)
    manager_role_id: Mapped[int | None] = mapped_column(BigInteger)
    context: Mapped[str | None] = mapped_column(Text)
    """Names and jargon sent with WebSocket sessions (never logged)."""
    caption_languages: Mapped[str | None] = mapped_column(String(128))
    """Comma-separated language codes served as captions in every run."""
    max_caption_languages: Mapped[int | None] = mapped_column(Integer)


class GuildConfigRow(_Settings, Base):
    __tablename__ = "guild_config"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    retention_days: Mapped[int | None] = mapped_column(Integer)


class ChannelConfigRow(_Settings, Base):
    __tablename__ = "channel_config"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    channel_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class MemberPreferenceRow(Base):
    __tablename__ = "member_preference"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    member_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    source_language: Mapped[str | None] = mapped_column(String(16))
    voice: Mapped[str | None] = mapped_column(String(16))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    caption_language: Mapped[str | None] = mapped_column(String(16))
    """The language the member reads captions in (``None``: no captions of their own)."""


class CommandSyncRow(Base):
    """The hash of the application commands last synced (application-wide, not per guild)."""

    __tablename__ = "command_sync"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    definitions_hash: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SegmentRow(Base):
    __tablename__ = "transcript_segment"
    __table_args__ = (
        Index("ix_segment_guild_run", "guild_id", "run_id", "started_at"),
        Index("ix_segment_guild_member", "guild_id", "member_id"),
        Index("ix_segment_guild_ended", "guild_id", "ended_at"),
        # A retried write finds its segment already there (NULLs never collide).
        Index("uq_segment_run_seq", "guild_id", "run_id", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    voice_channel_id: Mapped[int] = mapped_column(BigInteger)
    run_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int | None] = mapped_column(BigInteger)
    source_language: Mapped[str] = mapped_column(String(16))
    target_language: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime)
    original: Mapped[str] = mapped_column(Text)
    translation: Mapped[str | None] = mapped_column(Text)
    seq: Mapped[int | None] = mapped_column(Integer)
    caption_language: Mapped[str | None] = mapped_column(String(16))
    """The caption thread it was posted in (``None``: the run's own thread)."""
