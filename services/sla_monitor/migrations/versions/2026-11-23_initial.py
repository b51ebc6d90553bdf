"""sla_monitor: task clocks, outbox, processed events

Revision ID: sla_monitor_0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from common.db import create_common_tables

revision = "sla_monitor_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_common_tables(op.get_bind())
    op.create_table(
        "task_clock",
        sa.Column("task_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("task_type", sa.Text, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.create_index("ix_task_clock_due_active", "task_clock", ["due_at"],
                    postgresql_where=sa.text("active"))


def downgrade() -> None:
    op.drop_table("task_clock")
