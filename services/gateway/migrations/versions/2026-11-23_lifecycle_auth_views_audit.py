"""gateway: orgs and users, notes, time log, saved views, audit log, queue indexes

Revision ID: gateway_0002
Revises: gateway_0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "gateway_0002"
down_revision = "gateway_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "org",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_table(
        "app_user",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("org_id", sa.Text, sa.ForeignKey("org.id"), nullable=False),
        sa.Column("email", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("roles", ARRAY(sa.Text), nullable=False),
        sa.Column("skills", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_index("ix_app_user_org", "app_user", ["org_id"])
    op.create_table(
        "task_note",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("task_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("author_id", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table(
        "task_time",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("task_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("performed_on", sa.Date, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_table(
        "saved_view",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("owner_id", sa.Text),  # null: shared with the whole org
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("filters", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.UniqueConstraint("org_id", "owner_id", "name", name="uq_saved_view_name",
                            postgresql_nulls_not_distinct=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("clock_timestamp()")),
        sa.Column("actor_id", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("task_id", UUID(as_uuid=True)),
        sa.Column("patient_id", sa.Text),
        sa.Column("payer_id", sa.Text),
        sa.Column("task_type", sa.Text),
        sa.Column("detail", JSONB, nullable=False, server_default="{}"),
    )
    op.create_index("ix_audit_org_at", "audit_log", ["org_id", "at"])
    op.create_index("ix_audit_org_patient", "audit_log", ["org_id", "patient_id", "at"])
    op.create_index("ix_task_org_status_due", "task", ["org_id", "status", "due_at", "id"])
    op.create_index("ix_task_org_owner_due", "task", ["org_id", "owner_id", "due_at", "id"])
    op.create_index("ix_task_org_type_due", "task", ["org_id", "task_type", "due_at", "id"])
    op.create_index("ix_task_part_of", "task", ["part_of"])
    # Every version of every task, for FHIR _history: a trigger, so no write path forgets.
    op.create_table(
        "task_version",
        sa.Column("task_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot", JSONB, nullable=False),
    )
    op.execute("""
        CREATE FUNCTION task_keep_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO task_version (task_id, version, at, snapshot)
          VALUES (NEW.id, NEW.version, NEW.updated_at, to_jsonb(NEW))
          ON CONFLICT DO NOTHING;
          RETURN NULL;
        END $$;
        CREATE TRIGGER task_keep_version AFTER INSERT OR UPDATE ON task
          FOR EACH ROW EXECUTE FUNCTION task_keep_version();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER task_keep_version ON task; DROP FUNCTION task_keep_version()")
    op.drop_table("task_version")
    for ix in ("ix_task_part_of", "ix_task_org_type_due", "ix_task_org_owner_due",
               "ix_task_org_status_due"):
        op.drop_index(ix, "task")
    for t in ("audit_log", "saved_view", "task_time", "task_note", "app_user", "org"):
        op.drop_table(t)
