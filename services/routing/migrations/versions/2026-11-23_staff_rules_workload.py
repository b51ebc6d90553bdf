"""routing: staff directory with live workload, versioned rule sets, routed tasks

Revision ID: routing_0002
Revises: routing_0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "routing_0002"
down_revision = "routing_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False, index=True),
        sa.Column("roles", ARRAY(sa.Text), nullable=False),
        sa.Column("skills", ARRAY(sa.Text), nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("away", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("active_tasks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_assigned_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "rule_set",
        sa.Column("org_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("rules", JSONB, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_table(
        "routed_task",
        sa.Column("task_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("owner_id", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.add_column("routing_decision", sa.Column("rule_version", sa.Integer))
    op.add_column("routing_decision", sa.Column("candidates", JSONB, nullable=False,
                                                server_default="[]"))


def downgrade() -> None:
    op.drop_column("routing_decision", "candidates")
    op.drop_column("routing_decision", "rule_version")
    for t in ("routed_task", "rule_set", "staff"):
        op.drop_table(t)
