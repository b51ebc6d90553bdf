"""nba: outbox, processed events

Revision ID: nba_0001
Revises:
Create Date: 2026-11-23
"""
from alembic import op

from common.db import create_common_tables

revision = "nba_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_common_tables(op.get_bind())


def downgrade() -> None:
    op.drop_table("processed_event")
    op.drop_table("outbox")
