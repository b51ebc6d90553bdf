"""intake: task policies now arrive from the gateway (TaskPolicyChanged), versioned there

Policies stored before this came through intake's own unauthenticated endpoint, with
intake's own version numbers: they stay in force at version 0, so that the first version
a manager saves in the gateway replaces them.

Revision ID: intake_0003
Revises: intake_0002
Create Date: 2026-12-07
"""
from alembic import op

revision = "intake_0003"
down_revision = "intake_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE task_policy SET version = 0")
    op.alter_column("task_policy", "version", server_default="0")


def downgrade() -> None:
    op.alter_column("task_policy", "version", server_default="1")
