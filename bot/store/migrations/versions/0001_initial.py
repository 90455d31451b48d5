"""Initial schema: server and channel settings, member preferences, command sync,
transcript segments.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """The models' ``UtcDateTime`` as this revision created it. A migration carries its own
    copy of a custom type (history must not change when the models do); only the column
    type it renders matters here, so the conversions are left out."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True


def _settings_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("target_language", sa.String(16), nullable=True),
        sa.Column("source_language", sa.String(16), nullable=True),
        sa.Column("voice", sa.String(16), nullable=True),
        sa.Column("mode", sa.String(16), nullable=True),
        sa.Column("transcript_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("play_audio", sa.Boolean(), nullable=True),
        sa.Column("post_transcripts", sa.Boolean(), nullable=True),
        sa.Column("idle_leave_s", sa.Integer(), nullable=True),
        sa.Column("max_run_minutes", sa.Integer(), nullable=True),
        sa.Column("max_speakers", sa.Integer(), nullable=True),
        sa.Column("manager_role_id", sa.BigInteger(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "guild_config",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        *_settings_columns(),
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("guild_id"),
    )
    op.create_table(
        "channel_config",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("channel_id", sa.BigInteger(), autoincrement=False, nullable=False),
        *_settings_columns(),
        sa.PrimaryKeyConstraint("guild_id", "channel_id"),
    )
    op.create_table(
        "member_preference",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("member_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("source_language", sa.String(16), nullable=True),
        sa.Column("voice", sa.String(16), nullable=True),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "member_id"),
    )
    op.create_table(
        "command_sync",
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("definitions_hash", sa.String(64), nullable=False),
        sa.Column("synced_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope"),
    )
    op.create_table(
        "transcript_segment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("voice_channel_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=True),
        sa.Column("source_language", sa.String(16), nullable=False),
        sa.Column("target_language", sa.String(16), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=False),
        sa.Column("original", sa.Text(), nullable=False),
        sa.Column("translation", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_segment_guild_run", "transcript_segment",
                    ["guild_id", "run_id", "started_at"])
    op.create_index("ix_segment_guild_member", "transcript_segment", ["guild_id", "member_id"])
    op.create_index("ix_segment_guild_ended", "transcript_segment", ["guild_id", "ended_at"])


def downgrade() -> None:
    op.drop_table("transcript_segment")
    op.drop_table("command_sync")
    op.drop_table("member_preference")
    op.drop_table("channel_config")
    op.drop_table("guild_config")
