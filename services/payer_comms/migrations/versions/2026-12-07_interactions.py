"""payer_comms: the payer directory, the consent registry, payer interactions and their
provider callbacks

Revision ID: payer_comms_interactions
Revises: payer_comms_outbox_dead
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "payer_comms_interactions"
down_revision = "payer_comms_outbox_dead"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "payer",
        sa.Column("org_id", sa.Text, primary_key=True),
        sa.Column("payer_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("phone", sa.Text), sa.Column("fax", sa.Text), sa.Column("email", sa.Text),
        sa.Column("portal_url", sa.Text), sa.Column("hours", sa.Text),
        sa.Column("time_zone", sa.Text, nullable=False, server_default="America/New_York"),
        sa.Column("ivr_notes", sa.Text),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_by", sa.Text),
    )
    op.create_table(
        "consent",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("number", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("scope", sa.Text),
        sa.Column("given_at", TS, nullable=False),
        sa.Column("recorded_by", sa.Text),
        sa.Column("revoked_at", TS),
        sa.Column("revoked_by", sa.Text),
    )
    op.create_index("ix_consent_number", "consent", ["org_id", "number"])
    op.create_table(
        "interaction",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("task_id", UUID(as_uuid=True)),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
        sa.Column("payer_id", sa.Text), sa.Column("user_id", sa.Text),
        sa.Column("counterpart", sa.Text), sa.Column("staff_number", sa.Text),
        sa.Column("provider_sid", sa.Text, unique=True),
        sa.Column("thread_id", sa.Text),
        sa.Column("claim_number", sa.Text), sa.Column("subject", sa.Text),
        sa.Column("body", sa.Text), sa.Column("summary", sa.Text), sa.Column("refusal", sa.Text),
        sa.Column("started_at", TS, nullable=False), sa.Column("ended_at", TS),
        sa.Column("duration_s", sa.Integer),
        sa.Column("reference_number", sa.Text), sa.Column("claim_status", sa.Text),
        sa.Column("promised_payment_date", sa.Date), sa.Column("missing_information", sa.Text),
        sa.Column("next_step", sa.Text), sa.Column("follow_up_date", sa.Date),
        sa.Column("carc_codes", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("recording_url", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TS),
        sa.Column("event_id", UUID(as_uuid=True)),
    )
    op.create_index("ix_interaction_task", "interaction", ["task_id"])
    op.create_index("ix_interaction_thread_id", "interaction", ["thread_id"])
    op.create_index("ix_interaction_due", "interaction", ["next_attempt_at"],
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_table(
        "interaction_callback",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("interaction_id", UUID(as_uuid=True)),
        sa.Column("provider_sid", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("params", JSONB, nullable=False),
        sa.UniqueConstraint("provider_sid", "status", name="uq_callback_once"),
    )
    op.create_index("ix_interaction_callback_interaction_id", "interaction_callback",
                    ["interaction_id"])


def downgrade() -> None:
    for t in ("interaction_callback", "interaction", "consent", "payer"):
        op.drop_table(t)
