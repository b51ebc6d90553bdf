"""payer_comms: contacts, alerts, deliveries and their attempts

Revision ID: payer_comms_0002
Revises: payer_comms_0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "payer_comms_0002"
down_revision = "payer_comms_0001"
branch_labels = None
depends_on = None
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "contact",
        sa.Column("org_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("email", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.create_table(
        "alert",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("task_id", UUID(as_uuid=True)),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("recipients", ARRAY(sa.Text), nullable=False),
        sa.Column("suppressed_by", sa.Text),
        sa.Column("requested_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("event_id", UUID(as_uuid=True)),
    )
    op.create_table(
        "delivery",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("alert_id", UUID(as_uuid=True), nullable=False),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("address", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TS),
        sa.Column("last_error", sa.Text),
        sa.Column("provider_message_id", sa.Text),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("done_at", TS),
        sa.UniqueConstraint("alert_id", "user_id", "channel", name="uq_delivery_once"),
    )
    op.create_index("ix_delivery_due", "delivery", ["next_attempt_at"],
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_table(
        "delivery_attempt",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("delivery_id", sa.BigInteger, nullable=False, index=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("provider_message_id", sa.Text),
        sa.Column("elapsed_ms", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for t in ("delivery_attempt", "delivery", "alert", "contact"):
        op.drop_table(t)
