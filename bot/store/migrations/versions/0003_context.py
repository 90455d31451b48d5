"""Session context: a server and channel setting (names and jargon for Pinch).

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TABLES = ("guild_config", "channel_config")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("context", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("context")
