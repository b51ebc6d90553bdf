"""gateway: staff capacity and away, versioned routing rule sets

Revision ID: gateway_0003
Revises: gateway_0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "gateway_0003"
down_revision = "gateway_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("capacity", sa.Integer, nullable=False, server_default="40"))
    op.add_column("app_user", sa.Column("away", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "routing_rule_set",
        sa.Column("org_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("rules", JSONB, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("routing_rule_set")
    op.drop_column("app_user", "away")
    op.drop_column("app_user", "capacity")
