"""gateway: the TaskAssigned last announced per task, so a late routing decision never
undoes an escalation or a person's assignment

Revision ID: gateway_0005_assigned_event
Revises: gateway_0005_task_policy
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "gateway_0005_assigned_event"
down_revision = "gateway_0005_task_policy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("task", sa.Column("assigned_event_id", UUID(as_uuid=True)))
    # Tasks whose owner the gateway already decided (a person, an escalation that moved
    # the task) get a marker no routing decision is caused by: one still in flight is late.
    op.execute("""
        UPDATE task SET assigned_event_id = gen_random_uuid()
        WHERE id IN (SELECT h.task_id FROM task_history h
                     WHERE h.action IN ('assigned', 'reassigned', 'unassigned')
                        OR (h.action = 'escalated'
                            AND h.detail->>'escalated_to_user_id' IS NOT NULL
                            AND h.detail->>'escalated_to_user_id'
                                IS DISTINCT FROM h.detail->>'previous_owner_id'))""")


def downgrade() -> None:
    op.drop_column("task", "assigned_event_id")
