"""nba: its view of tasks, the suggestion log, action statistics, decision counts

Revision ID: nba_0002
Revises: nba_0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "nba_0002"
down_revision = "nba_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task",
        sa.Column("task_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("task_type", sa.Text, nullable=False),
        sa.Column("payer_id", sa.Text),
        sa.Column("payer_name", sa.Text),
        sa.Column("payer_class", sa.Text),
        sa.Column("amount", sa.Numeric(12, 2)),
        sa.Column("reason_codes", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("owner_id", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("seen_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tried", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("pending_action", sa.Text),
        sa.Column("outcome", sa.Text),
        sa.Column("suggestion_id", UUID(as_uuid=True)),
        sa.Column("suggested_action", sa.Text),
        sa.Column("suggested_version", sa.Integer),
        sa.Column("suggested_at", sa.DateTime(timezone=True)),
        sa.Column("cached_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_task_owner_queue", "task", ["org_id", "owner_id", "due_at", "task_id"],
                    postgresql_where=sa.text("active"))
    op.create_index("ix_task_dirty", "task", ["task_id"],
                    postgresql_where=sa.text("seen_version < version"))
    op.create_table(
        "suggestion",
        sa.Column("suggestion_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("task_id", UUID(as_uuid=True), nullable=False),
        sa.Column("task_version", sa.Integer, nullable=False),
        sa.Column("task_type", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("greedy_action", sa.Text, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("exploring", sa.Boolean, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.Text),
        sa.Column("decided_action", sa.Text),
        sa.Column("decided_by", sa.Text),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_suggestion_task_id", "suggestion", ["task_id"])
    op.create_table(
        "action_stat",
        sa.Column("org_id", sa.Text, primary_key=True),
        sa.Column("level", sa.SmallInteger, primary_key=True),
        sa.Column("scope", sa.Text, primary_key=True),
        sa.Column("action", sa.Text, primary_key=True),
        sa.Column("successes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "decision_stat",
        sa.Column("org_id", sa.Text, primary_key=True),
        sa.Column("task_type", sa.Text, primary_key=True),
        sa.Column("action", sa.Text, primary_key=True),
        sa.Column("decision", sa.Text, primary_key=True),
        sa.Column("n", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    for t in ("decision_stat", "action_stat", "suggestion", "task"):
        op.drop_table(t)
