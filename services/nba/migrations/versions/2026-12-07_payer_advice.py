"""nba: payer_advice, what a payer's people advised on a logged interaction

Revision ID: nba_payer_advice
Revises: nba_outbox_dead
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "nba_payer_advice"
down_revision = "nba_outbox_dead"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payer_advice",
        sa.Column("interaction_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("task_id", UUID(as_uuid=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_payer_advice_scope", "payer_advice", ["org_id", "scope"])


def downgrade() -> None:
    op.drop_table("payer_advice")
