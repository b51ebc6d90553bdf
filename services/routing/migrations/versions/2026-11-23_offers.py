"""routing: offers with a timeout (where a decision stands, who was offered, until when)

Revision ID: routing_0003
Revises: routing_0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "routing_0003"
down_revision = "routing_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("routed_task", sa.Column("task", JSONB))
    op.add_column("routed_task", sa.Column("rule_pos", sa.Integer))
    op.add_column("routed_task", sa.Column("target_pos", sa.Integer))
    op.add_column("routed_task", sa.Column("offered", JSONB, nullable=False, server_default="[]"))
    op.add_column("routed_task", sa.Column("offer_expires_at", sa.DateTime(timezone=True)))
    op.create_index("ix_routed_task_offer", "routed_task", ["offer_expires_at"],
                    postgresql_where=sa.text("offer_expires_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_routed_task_offer", "routed_task")
    for c in ("offer_expires_at", "offered", "target_pos", "rule_pos", "task"):
        op.drop_column("routed_task", c)
