"""gateway: versioned task policies per org and task type (intake applies them)

Revision ID: gateway_0005_task_policy
Revises: gateway_0004_sla
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "gateway_0005_task_policy"
down_revision = "gateway_0004_sla"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_policy_version",
        sa.Column("org_id", sa.Text, primary_key=True),
        sa.Column("task_type", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("policy", JSONB, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("task_policy_version")
