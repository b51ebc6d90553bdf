"""routing: a stamp per org that changes with its staff directory, so that workers keep
their staff index between polls and rebuild it only when someone was added or changed

Revision ID: routing_0004
Revises: routing_0003
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "routing_0004"
down_revision = "routing_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_stamp",
        sa.Column("org_id", sa.Text, primary_key=True),
        sa.Column("stamp", UUID(as_uuid=True), nullable=False,
                  server_default=sa.text("gen_random_uuid()")),
    )
    op.execute("INSERT INTO staff_stamp (org_id) SELECT DISTINCT org_id FROM staff")


def downgrade() -> None:
    op.drop_table("staff_stamp")
