"""sla_monitor: clock state (pause, ladder), escalations, policies, staff

Revision ID: sla_monitor_0002
Revises: sla_monitor_0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "sla_monitor_0002"
down_revision = "sla_monitor_0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    for col in (sa.Column("priority", sa.Text), sa.Column("payer_id", sa.Text),
                sa.Column("task_due_at", TS), sa.Column("started_at", TS),
                sa.Column("status", sa.Text, nullable=False, server_default="requested"),
                sa.Column("business_status", sa.Text), sa.Column("owner_id", sa.Text),
                sa.Column("policy_id", sa.Text), sa.Column("policy_version", sa.Integer),
                sa.Column("paused_at", TS),
                sa.Column("level", sa.SmallInteger, nullable=False, server_default="0"),
                sa.Column("warned", sa.Boolean, nullable=False, server_default=sa.false()),
                sa.Column("breach", sa.Integer, nullable=False, server_default="1"),
                sa.Column("next_stage", sa.SmallInteger), sa.Column("next_at", TS)):
        op.add_column("task_clock", col)
    # Clocks started before the ladder existed: level 1 at their deadline.
    op.execute("UPDATE task_clock SET task_due_at = due_at, next_stage = 1, next_at = due_at "
               "WHERE active")
    op.drop_index("ix_task_clock_due_active", table_name="task_clock")
    op.create_index("ix_task_clock_next", "task_clock", ["next_at"],
                    postgresql_where=sa.text("next_at IS NOT NULL"))
    op.create_index("ix_task_clock_org", "task_clock", ["org_id", "task_type"])
    op.create_table(
        "escalation",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("task_id", UUID(as_uuid=True), nullable=False),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("breach", sa.Integer, nullable=False),
        sa.Column("stage", sa.SmallInteger, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("breached_at", TS, nullable=False),
        sa.Column("escalated_at", TS, nullable=False),
        sa.Column("escalated_to_role", sa.Text),
        sa.Column("escalated_to_user_id", sa.Text),
        sa.Column("recipients", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("alert_suppressed", sa.Text),
        sa.Column("policy_id", sa.Text),
        sa.Column("policy_version", sa.Integer),
        sa.UniqueConstraint("task_id", "breach", "stage", name="uq_escalation_once_per_rung"),
    )
    op.create_table(
        "policy_set",
        sa.Column("org_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("policies", JSONB, nullable=False),
        sa.Column("maintenance", JSONB, nullable=False, server_default="[]"),
        sa.Column("changed_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "staff",
        sa.Column("org_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("roles", ARRAY(sa.Text), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff")
    op.drop_table("policy_set")
    op.drop_table("escalation")
    op.drop_index("ix_task_clock_org", table_name="task_clock")
    op.drop_index("ix_task_clock_next", table_name="task_clock")
    op.create_index("ix_task_clock_due_active", "task_clock", ["due_at"],
                    postgresql_where=sa.text("active"))
    for name in ("priority", "payer_id", "task_due_at", "started_at", "status", "business_status",
                 "owner_id", "policy_id", "policy_version", "paused_at", "level", "warned",
                 "breach", "next_stage", "next_at"):
        op.drop_column("task_clock", name)
