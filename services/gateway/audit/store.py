"""The audit log: every action and every read, searchable by patient, payer, type, actor."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.store import metadata

audit_log = sa.Table(
    "audit_log", metadata,
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


async def audit(session: AsyncSession, *, org_id: str, actor_id: str, action: str,
                task_row=None, detail: dict | None = None) -> None:
    """Write one audit row; the task's patient, payer and type are copied for search."""
    await session.execute(sa.insert(audit_log).values(
        org_id=org_id, actor_id=actor_id, action=action,
        task_id=task_row.id if task_row is not None else None,
        patient_id=task_row.patient_id if task_row is not None else None,
        payer_id=task_row.payer_id if task_row is not None else None,
        task_type=task_row.task_type if task_row is not None else None,
        detail=detail or {}))


async def search(session: AsyncSession, *, org_id: str, patient_id=None, payer_id=None,
                 task_type=None, actor_id=None, task_id=None, since=None, until=None,
                 limit: int = 500) -> list:
    """Audit rows of one org, newest first, by patient, payer, task type, actor and dates."""
    q = sa.select(audit_log).where(audit_log.c.org_id == org_id)
    for col, value in (("patient_id", patient_id), ("payer_id", payer_id),
                       ("task_type", task_type), ("actor_id", actor_id), ("task_id", task_id)):
        if value:
            q = q.where(audit_log.c[col] == value)
    if since:
        q = q.where(audit_log.c.at >= since)
    if until:
        q = q.where(audit_log.c.at < until)
    return (await session.execute(
        q.order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit))).all()


