"""The gateway's tables: the task record and its history. Nobody else reads them."""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from common.db import add_common_tables
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

metadata = sa.MetaData()
outbox, processed_event = add_common_tables(metadata)

task = sa.Table(
    "task", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("task_type", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("business_status", sa.Text),
    sa.Column("priority", sa.Text, nullable=False),
    sa.Column("priority_rank", sa.SmallInteger, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("patient_id", sa.Text),
    sa.Column("patient_name", sa.Text),
    sa.Column("payer_id", sa.Text),
    sa.Column("payer_name", sa.Text),
    sa.Column("payer_class", sa.Text),
    sa.Column("amount", sa.Numeric(12, 2)),
    sa.Column("reason_codes", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("cpt_codes", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("icd_codes", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("source_kind", sa.Text, nullable=False),
    sa.Column("source_id", sa.Text, nullable=False),
    sa.Column("source_module", sa.Text, nullable=False),
    sa.Column("details", JSONB, nullable=False, server_default="{}"),
    sa.Column("queue", sa.Text),
    sa.Column("owner_id", sa.Text),
    sa.Column("routing_reason", sa.Text),
    sa.Column("part_of", UUID(as_uuid=True)),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.text("clock_timestamp()")),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.text("clock_timestamp()")),
    sa.Index("ix_task_org_due", "org_id", "due_at", "id"),
    sa.Index("ix_task_org_queue", "org_id", "queue", "due_at", "id"),
)

task_history = sa.Table(
    "task_history", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("task_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),  # created, routed, status, assigned, note, ...
    sa.Column("from_status", sa.Text),
    sa.Column("to_status", sa.Text),
    sa.Column("detail", JSONB, nullable=False, server_default="{}"),
    sa.Column("event_id", UUID(as_uuid=True)),
)

PRIORITY_RANK = {"Urgent": 0, "High": 1, "Routine": 2, "Low": 3}


async def create_tasks(session: AsyncSession, rows: list[dict]) -> set[uuid.UUID]:
    """Store new tasks in one statement; return the ids that were not stored before."""
    if not rows:
        return set()
    got = await session.execute(
        pg_insert(task).on_conflict_do_nothing().returning(task.c.id), rows)
    return set(got.scalars())


async def set_routes(session: AsyncSession, routes: list[dict]) -> set[uuid.UUID]:
    """Apply routing decisions ({id, org_id, queue, owner_id, reason}, one per task) in
    one statement; return the ids found in their org."""
    if not routes:
        return set()
    v = sa.values(sa.column("id", UUID(as_uuid=True)), sa.column("org_id", sa.Text),
                  sa.column("queue", sa.Text), sa.column("owner_id", sa.Text),
                  sa.column("reason", sa.Text), name="v").data(
        [(r["id"], r["org_id"], r["queue"], r["owner_id"], r["reason"]) for r in routes])
    got = await session.execute(
        sa.update(task).where(task.c.id == v.c.id, task.c.org_id == v.c.org_id)
        .values(queue=v.c.queue, owner_id=v.c.owner_id, routing_reason=v.c.reason,
                version=task.c.version + 1, updated_at=sa.text("clock_timestamp()"))
        .returning(task.c.id))
    return set(got.scalars())


async def add_history(session: AsyncSession, rows: list[dict]) -> None:
    """Append rows to tasks' histories, in one statement."""
    if rows:
        await session.execute(sa.insert(task_history), rows)


def queue_query(*, org_id: str, queue: str | None = None, status: list[str] | None = None,
                task_type: str | None = None, owner_id: str | None = None,
                after: tuple[datetime, uuid.UUID] | None = None, limit: int = 50) -> sa.Select:
    """Open tasks of one org, earliest deadline first, keyset-paged on (due_at, id)."""
    q = sa.select(task).where(task.c.org_id == org_id)
    if queue:
        q = q.where(task.c.queue == queue)
    if status:
        q = q.where(task.c.status.in_(status))
    if task_type:
        q = q.where(task.c.task_type == task_type)
    if owner_id:
        q = q.where(task.c.owner_id == owner_id)
    if after:
        q = q.where(sa.tuple_(task.c.due_at, task.c.id) > sa.tuple_(*after))
    return q.order_by(task.c.due_at, task.c.id).limit(limit)


def tasks_by_id(org_id: str, ids: list[uuid.UUID]) -> sa.Select:
    """Those of the given tasks that belong to the org."""
    return sa.select(task).where(task.c.org_id == org_id, task.c.id.in_(ids))


async def get_task(session: AsyncSession, org_id: str, task_id: uuid.UUID):
    """One task of one org, or None."""
    return (await session.execute(
        sa.select(task).where(task.c.id == task_id, task.c.org_id == org_id))).first()


async def history_of(session: AsyncSession, org_id: str, task_id: uuid.UUID) -> list:
    """A task's history, oldest first."""
    return (await session.execute(
        sa.select(task_history)
        .where(task_history.c.task_id == task_id, task_history.c.org_id == org_id)
        .order_by(task_history.c.id))).all()
