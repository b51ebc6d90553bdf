"""The queue's queries over the task table (filters, keyset pages, board columns, counts),
saved views and each person's preferences."""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import domain
from services.gateway.store import metadata
from services.gateway.tasks.store import task

saved_view = sa.Table(
    "saved_view", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("owner_id", sa.Text),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("filters", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
user_pref = sa.Table(
    "user_pref", metadata,
    sa.Column("user_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("value", JSONB, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)


async def get_pref(session: AsyncSession, user_id: str, name: str) -> dict | None:
    """A user's saved preference (e.g. their board filters), or None."""
    return (await session.execute(sa.select(user_pref.c.value).where(
        user_pref.c.user_id == user_id, user_pref.c.name == name))).scalar()


async def set_pref(session: AsyncSession, *, user_id: str, org_id: str, name: str,
                   value: dict) -> None:
    """Save a user's preference, replacing the previous value."""
    stmt = pg_insert(user_pref).values(user_id=user_id, org_id=org_id, name=name, value=value)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[user_pref.c.user_id, user_pref.c.name],
        set_={"value": stmt.excluded.value, "updated_at": sa.func.now()}))


async def views_of(session: AsyncSession, org_id: str, user_id: str) -> list:
    """Saved views a user sees: the org's shared ones and their own."""
    return (await session.execute(sa.select(saved_view).where(
        saved_view.c.org_id == org_id,
        saved_view.c.owner_id.is_(None) | (saved_view.c.owner_id == user_id))
        .order_by(saved_view.c.owner_id.is_not(None), saved_view.c.created_at))).all()


async def add_view(session: AsyncSession, **values) -> None:
    """Save a view; a name the owner (or the org) already has raises IntegrityError."""
    await session.execute(sa.insert(saved_view).values(**values))


async def delete_view(session: AsyncSession, view_id: uuid.UUID, *, org_id: str, user_id: str,
                      manager: bool) -> bool:
    """Delete one of the user's views (a manager: or one shared with the org); whether
    there was one."""
    v = saved_view
    cond = (v.c.id == view_id) & (v.c.org_id == org_id)
    cond &= (v.c.owner_id == user_id) | (v.c.owner_id.is_(None) if manager else sa.false())
    return (await session.execute(sa.delete(v).where(cond))).rowcount > 0




# Sort orders for the queue, each a keyset: (columns, descending?). The id breaks ties.
SORTS: dict[str, tuple[tuple[str, ...], bool]] = {
    "due": (("due_at",), False),
    "priority": (("priority_rank", "due_at"), False),
    "newest": (("created_at",), True),
    "updated": (("updated_at",), True),
}


async def queue_rows(session: AsyncSession, f, *, org_id: str, user_id: str, now: datetime,
                     after: tuple | None, limit: int) -> list:
    """One keyset page of the queue (see queue_query)."""
    return (await session.execute(queue_query(f, org_id=org_id, user_id=user_id, now=now,
                                              after=after, limit=limit))).all()


def queue_query(f, *, org_id: str, user_id: str, now: datetime, after: tuple | None,
                limit: int) -> sa.Select:
    """Tasks of one org matching a QueueFilter, keyset-paged in the filter's sort order."""
    cols, desc = SORTS[f.sort]
    keys = [task.c[c] for c in cols] + [task.c.id]
    q = filtered(sa.select(task), f, org_id=org_id, user_id=user_id, now=now)
    if after is not None:
        cmp = sa.tuple_(*keys) < sa.tuple_(*after) if desc else sa.tuple_(*keys) > sa.tuple_(*after)
        q = q.where(cmp)
    return q.order_by(*[k.desc() if desc else k.asc() for k in keys]).limit(limit)


def filtered(q: sa.Select, f, *, org_id: str, user_id: str, now: datetime) -> sa.Select:
    """Apply a QueueFilter's conditions (always scoped to one org)."""
    q = q.where(task.c.org_id == org_id)
    statuses = f.status or list(domain.ACTIVE)
    q = q.where(task.c.status.in_(statuses))
    if f.task_type:
        q = q.where(task.c.task_type.in_(f.task_type))
    if f.role:
        q = q.where(task.c.task_type.in_(domain.ROLE_TASK_TYPES.get(f.role, ())))
    if f.priority:
        q = q.where(task.c.priority.in_(f.priority))
    if f.owner == "me":
        q = q.where(task.c.owner_id == user_id)
    elif f.owner == "unassigned":
        q = q.where(task.c.owner_id.is_(None))
    elif f.owner:
        q = q.where(task.c.owner_id == f.owner)
    if f.sla == "overdue":
        q = q.where(task.c.due_at <= now)
    elif f.sla == "due-soon":
        q = q.where(task.c.due_at > now, task.c.due_at <= now + domain.DUE_SOON)
    elif f.sla == "on-track":
        q = q.where(task.c.due_at > now + domain.DUE_SOON)
    for field in ("patient_id", "payer_id", "source_module", "queue"):
        if value := getattr(f, field):
            q = q.where(task.c[field] == value)
    if f.skills:
        q = q.where(task.c.task_type.in_(f.skills) | task.c.payer_class.in_(f.skills))
    if f.q:
        like = f"%{f.q}%"
        q = q.where(task.c.title.ilike(like) | task.c.patient_name.ilike(like)
                    | task.c.source_id.ilike(like) | task.c.description.ilike(like))
    return q


async def column_counts(session: AsyncSession, f, *, org_id: str, user_id: str,
                        now: datetime) -> list:
    """How many tasks per (status, businessStatus) match the filter, for board badges."""
    base = filtered(sa.select(task.c.status, task.c.business_status, sa.func.count()), f,
                    org_id=org_id, user_id=user_id, now=now)
    return (await session.execute(base.group_by(task.c.status, task.c.business_status))).all()


def in_column(column: str) -> sa.ColumnElement[bool]:
    """The board column a task shows in, as a condition (businessStatus decides first)."""
    review = sa.func.lower(sa.func.coalesce(task.c.business_status, "")).in_(
        list(domain.COLUMN_BY_BUSINESS_STATUS))
    if column == "Review":
        return review
    return task.c.status.in_([s for s, c in domain.COLUMN_BY_STATUS.items() if c == column]) & ~review


async def board_column(session: AsyncSession, f, column: str, *, org_id: str, user_id: str,
                       now: datetime, limit: int) -> list:
    """The first cards of one board column: open work by priority then due date, done
    work newest first."""
    f = f.model_copy(update={"status": list(domain.STATUSES)})
    q = filtered(sa.select(task), f, org_id=org_id, user_id=user_id, now=now).where(
        in_column(column))
    if column == "Done":
        q = q.order_by(task.c.updated_at.desc(), task.c.id.desc())
    else:
        q = q.order_by(task.c.priority_rank, task.c.due_at, task.c.id)
    return (await session.execute(q.limit(limit))).all()


