"""routing: one row per routed task holds its decision (rule, version, reason, candidates)
and what routing follows (owner, offer), written with one COPY per poll instead of two

Revision ID: routing_0005
Revises: routing_0004
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "routing_0005"
down_revision = "routing_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("routed_task", sa.Column("queue", sa.Text, nullable=False,
                                           server_default="default"))
    op.add_column("routed_task", sa.Column("rule_id", sa.Text))
    op.add_column("routed_task", sa.Column("rule_version", sa.Integer))
    op.add_column("routed_task", sa.Column("reason", sa.Text, nullable=False, server_default=""))
    op.add_column("routed_task", sa.Column("candidates", JSONB, nullable=False,
                                           server_default="[]"))
    op.add_column("routed_task", sa.Column("decided_at", sa.DateTime(timezone=True),
                                           nullable=False, server_default=sa.func.now()))
    op.execute("""UPDATE routed_task r SET queue = d.queue, rule_id = d.rule_id,
                         rule_version = d.rule_version, reason = d.reason,
                         candidates = d.candidates, decided_at = d.decided_at
                  FROM routing_decision d WHERE d.task_id = r.task_id""")
    op.drop_table("routing_decision")


def downgrade() -> None:
    op.create_table(
        "routing_decision",
        sa.Column("task_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("queue", sa.Text, nullable=False),
        sa.Column("owner_id", sa.Text),
        sa.Column("rule_id", sa.Text),
        sa.Column("rule_version", sa.Integer),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("candidates", JSONB, nullable=False, server_default="[]"),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.execute("""INSERT INTO routing_decision (task_id, org_id, queue, owner_id, rule_id,
                         rule_version, reason, candidates, decided_at)
                  SELECT task_id, org_id, queue, owner_id, rule_id, rule_version, reason,
                         candidates, decided_at FROM routed_task""")
    for c in ("decided_at", "candidates", "reason", "rule_version", "rule_id", "queue"):
        op.drop_column("routed_task", c)
