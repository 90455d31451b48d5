"""Live captions: a server and channel setting.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TABLES = ("guild_config", "channel_config")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("live_captions", sa.Boolean(), nullable=True))


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("live_captions")
