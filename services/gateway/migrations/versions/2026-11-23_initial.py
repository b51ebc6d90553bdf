"""gateway: task record and history, outbox, processed events

Revision ID: gateway_0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from common.db import create_common_tables

revision = "gateway_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_common_tables(op.get_bind())
    op.create_table(
        "task",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("task_type", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("business_status", sa.Text),
        sa.Column("priority", sa.Text, nullable=False),
        sa.Column("priority_rank", sa.SmallInteger, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("patient_id", sa.Text),
        sa.Column("patient_name", sa.Text),
        sa.Column("payer_id", sa.Text),
        sa.Column("payer_name", sa.Text),
        sa.Column("payer_class", sa.Text),
        sa.Column("amount", sa.Numeric(12, 2)),
        sa.Column("reason_codes", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("cpt_codes", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("icd_codes", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("source_kind", sa.Text, nullable=False),
        sa.Column("source_id", sa.Text, nullable=False),
        sa.Column("source_module", sa.Text, nullable=False),
        sa.Column("details", JSONB, nullable=False, server_default="{}"),
        sa.Column("queue", sa.Text),
        sa.Column("owner_id", sa.Text),
        sa.Column("routing_reason", sa.Text),
        sa.Column("part_of", UUID(as_uuid=True)),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("clock_timestamp()")),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("clock_timestamp()")),
    )
    op.create_index("ix_task_org_due", "task", ["org_id", "due_at", "id"])
    op.create_index("ix_task_org_queue", "task", ["org_id", "queue", "due_at", "id"])
    op.create_table(
        "task_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("task_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("from_status", sa.Text),
        sa.Column("to_status", sa.Text),
        sa.Column("detail", JSONB, nullable=False, server_default="{}"),
        sa.Column("event_id", UUID(as_uuid=True)),
    )


def downgrade() -> None:
    op.drop_table("task_history")
    op.drop_table("task")
