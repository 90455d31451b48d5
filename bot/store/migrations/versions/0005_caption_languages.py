"""Caption languages: the settings, a member's caption language, a segment's thread.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SETTINGS = ("guild_config", "channel_config")


def upgrade() -> None:
    for table in _SETTINGS:
        op.add_column(table, sa.Column("caption_languages", sa.String(length=128),
                                       nullable=True))
        op.add_column(table, sa.Column("max_caption_languages", sa.Integer(), nullable=True))
    op.add_column("member_preference", sa.Column("caption_language", sa.String(length=16),
                                                 nullable=True))
    op.add_column("transcript_segment", sa.Column("caption_language", sa.String(length=16),
                                                  nullable=True))


def downgrade() -> None:
    for table in ("transcript_segment", "member_preference"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("caption_language")
    for table in _SETTINGS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("max_caption_languages")
            batch.drop_column("caption_languages")
