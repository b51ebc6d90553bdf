"""intake: outbox_dead, where the relay sets aside events the broker refuses for good

Revision ID: intake_outbox_dead
Revises: intake_0003
Create Date: 2026-12-07
"""
from alembic import op

from common.db import create_outbox_dead_table

revision = "intake_outbox_dead"
down_revision = "intake_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_dead_table(op.get_bind())


def downgrade() -> None:
    op.drop_table("outbox_dead")
