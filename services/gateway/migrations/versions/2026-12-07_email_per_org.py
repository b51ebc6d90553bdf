"""gateway: an e-mail is unique within an org, not across orgs

Revision ID: gateway_email_per_org
Revises: gateway_outbox_dead
Create Date: 2026-12-07

A manager adding a person whose address another org uses got a refusal, which told them
the address was in use somewhere. Now each org has its own accounts; sign-in takes an
optional org for a person who works for more than one.
"""
from alembic import op

revision = "gateway_email_per_org"
down_revision = "gateway_outbox_dead"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("app_user_email_key", "app_user", type_="unique")
    op.create_unique_constraint("app_user_org_email_key", "app_user", ["org_id", "email"])
    op.create_index("ix_app_user_email", "app_user", ["email"])


def downgrade() -> None:
    # Fails, as it should, while two orgs share an address.
    op.drop_index("ix_app_user_email", "app_user")
    op.drop_constraint("app_user_org_email_key", "app_user", type_="unique")
    op.create_unique_constraint("app_user_email_key", "app_user", ["email"])
