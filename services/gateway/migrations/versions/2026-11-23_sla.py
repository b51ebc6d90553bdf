"""gateway: SLA — escalation level and SLA pause on tasks, users' phone, versioned SLA policy sets

Revision ID: gateway_0004_sla
Revises: gateway_0004_web
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "gateway_0004_sla"
down_revision = "gateway_0004_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("task", sa.Column("escalation_level", sa.SmallInteger, nullable=False,
                                    server_default="0"))
    op.add_column("task", sa.Column("sla_paused_at", sa.DateTime(timezone=True)))
    op.add_column("app_user", sa.Column("phone", sa.Text))
    op.create_table(
        "sla_policy_set",
        sa.Column("org_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("policies", JSONB, nullable=False),
        sa.Column("maintenance_windows", JSONB, nullable=False, server_default="[]"),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("sla_policy_set")
    op.drop_column("app_user", "phone")
    op.drop_column("task", "sla_paused_at")
    op.drop_column("task", "escalation_level")
