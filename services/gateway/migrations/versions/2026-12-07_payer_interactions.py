"""gateway: payer_interaction, the calls, texts and e-mails on tasks (and in triage)

Revision ID: gateway_payer_interactions
Revises: gateway_email_per_org
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "gateway_payer_interactions"
down_revision = "gateway_email_per_org"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payer_interaction",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("task_id", UUID(as_uuid=True)),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("payer_id", sa.Text),
        sa.Column("user_id", sa.Text),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("duration_s", sa.Integer),
        sa.Column("summary", sa.Text),
        sa.Column("refusal", sa.Text),
        sa.Column("reference_number", sa.Text),
        sa.Column("claim_status", sa.Text),
        sa.Column("promised_payment_date", sa.Date),
        sa.Column("missing_information", sa.Text),
        sa.Column("next_step", sa.Text),
        sa.Column("follow_up_date", sa.Date),
        sa.Column("carc_codes", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("recording_url", sa.Text),
        sa.Column("outcome_by", sa.Text),
        sa.Column("outcome_at", sa.DateTime(timezone=True)),
        sa.Column("note_id", UUID(as_uuid=True)),
        sa.Column("follow_up_task_id", UUID(as_uuid=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("clock_timestamp()")),
    )
    op.create_index("ix_payer_interaction_task", "payer_interaction",
                    ["org_id", "task_id", "started_at"])
    op.create_index("ix_payer_interaction_sent", "payer_interaction", ["org_id", "started_at", "id"])


def downgrade() -> None:
    op.drop_table("payer_interaction")
