"""gateway: per-user preferences of the web app (board filters), recent-first index

Revision ID: gateway_0004_web
Revises: gateway_0003
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "gateway_0004_web"
down_revision = "gateway_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_pref",
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("value", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    # The board's Done column and the queue's "recently updated" sort read newest first.
    op.create_index("ix_task_org_updated", "task", ["org_id", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_task_org_updated", "task")
    op.drop_table("user_pref")
