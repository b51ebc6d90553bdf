"""gateway: outbox_dead, where the relay sets aside events the broker refuses for good

Revision ID: gateway_outbox_dead
Revises: gateway_0005_assigned_event
Create Date: 2026-12-07
"""
from alembic import op

from common.db import create_outbox_dead_table

revision = "gateway_outbox_dead"
down_revision = "gateway_0005_assigned_event"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_dead_table(op.get_bind())


def downgrade() -> None:
    op.drop_table("outbox_dead")
