"""Segments numbered within their run, unique: a retried write is not stored twice.

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("transcript_segment", sa.Column("seq", sa.Integer(), nullable=True))
    op.create_index("uq_segment_run_seq", "transcript_segment",
                    ["guild_id", "run_id", "seq"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_segment_run_seq", table_name="transcript_segment")
    with op.batch_alter_table("transcript_segment") as batch:
        batch.drop_column("seq")
