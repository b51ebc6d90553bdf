"""SLA monitor's tables: the clock of every active task, the escalation ladder (one row per
rung per breach, unique), the orgs' policies and the staff escalations go to."""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from common import db
from common.db import add_common_tables

metadata = sa.MetaData()
outbox, processed_event = add_common_tables(metadata)

task_clock = sa.Table(
    "task_clock", metadata,
    sa.Column("task_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("task_type", sa.Text, nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),  # the deadline that counts
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("priority", sa.Text),
    sa.Column("payer_id", sa.Text),
    sa.Column("task_due_at", sa.DateTime(timezone=True)),  # the due date the task came with
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.Text, nullable=False, server_default="requested"),
    sa.Column("business_status", sa.Text),
    sa.Column("owner_id", sa.Text),
    sa.Column("policy_id", sa.Text),
    sa.Column("policy_version", sa.Integer),
    sa.Column("paused_at", sa.DateTime(timezone=True)),
    sa.Column("level", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("warned", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("breach", sa.Integer, nullable=False, server_default="1"),
    sa.Column("next_stage", sa.SmallInteger),
    sa.Column("next_at", sa.DateTime(timezone=True)),  # null: nothing to fire (done, paused, top)
    sa.Index("ix_task_clock_next", "next_at", postgresql_where=sa.text("next_at IS NOT NULL")),
    sa.Index("ix_task_clock_org", "org_id", "task_type"),
)

escalation = sa.Table(
    "escalation", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("task_id", UUID(as_uuid=True), nullable=False),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("breach", sa.Integer, nullable=False),
    sa.Column("stage", sa.SmallInteger, nullable=False),  # 0 warning, 1 and 2 levels
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("breached_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("escalated_to_role", sa.Text),
    sa.Column("escalated_to_user_id", sa.Text),
    sa.Column("recipients", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("alert_suppressed", sa.Text),
    sa.Column("policy_id", sa.Text),
    sa.Column("policy_version", sa.Integer),
    sa.UniqueConstraint("task_id", "breach", "stage", name="uq_escalation_once_per_rung"),
)

policy_set = sa.Table(
    "policy_set", metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("policies", JSONB, nullable=False),
    sa.Column("maintenance", JSONB, nullable=False, server_default="[]"),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

staff = sa.Table(
    "staff", metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("user_id", sa.Text, primary_key=True),
    sa.Column("roles", ARRAY(sa.Text), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
)


async def start_clocks(session: AsyncSession, rows: list[dict]) -> set[uuid.UUID]:
    """Start watching tasks' deadlines (once per task); return the ids started now."""
    if not rows:
        return set()
    got = await session.execute(
        pg_insert(task_clock).on_conflict_do_nothing().returning(task_clock.c.task_id), rows)
    return set(got.scalars())


async def clocks(session: AsyncSession, task_ids: list[uuid.UUID], *, lock: bool = False) -> dict:
    """Clocks by task id (locked for this transaction with ``lock``)."""
    if not task_ids:
        return {}
    q = sa.select(task_clock).where(task_clock.c.task_id.in_(task_ids))
    if lock:
        q = q.with_for_update()
    return {r.task_id: r for r in (await session.execute(q)).all()}


# Column → PostgreSQL type, for statements that take a batch as one JSON document
# (common.db.recordset): one short statement for a thousand rows.
CLOCK_STATE = {"due_at": "timestamptz", "active": "boolean", "status": "text",
               "business_status": "text", "owner_id": "text", "paused_at": "timestamptz",
               "level": "smallint", "warned": "boolean", "next_stage": "smallint",
               "next_at": "timestamptz", "policy_id": "text", "policy_version": "integer"}


async def save_clocks(session: AsyncSession, rows: list[dict]) -> None:
    """Write back changed clocks ({task_id, and every CLOCK_STATE column}) in one statement."""
    if not rows:
        return
    types = {"task_id": "uuid", **CLOCK_STATE}
    sets = ", ".join(f"{c} = v.{c}" for c in CLOCK_STATE)
    await session.execute(sa.text(
        f"UPDATE task_clock AS t SET {sets} FROM {db.recordset(types)} WHERE t.task_id = v.task_id"),
        db.recordset_rows(rows, types))


LADDER_STATE = {"task_id": "uuid", "level": "smallint", "warned": "boolean", "next_stage": "smallint",
                "next_at": "timestamptz"}


async def advance_clocks(session: AsyncSession, rows: list[dict]) -> None:
    """Move clocks up their ladder ({task_id, level, warned, next_stage, next_at}), one statement."""
    if rows:
        sets = ", ".join(f"{c} = v.{c}" for c in LADDER_STATE if c != "task_id")
        await session.execute(sa.text(
            f"UPDATE task_clock AS t SET {sets} FROM {db.recordset(LADDER_STATE)} "
            "WHERE t.task_id = v.task_id"), db.recordset_rows(rows, LADDER_STATE))


async def due_clocks(session: AsyncSession, now: datetime, limit: int) -> list:
    """Clocks whose next rung is due, oldest first, locked; rows another sweeper holds are
    skipped (so two replicas never fire the same rung at once)."""
    q = (sa.select(task_clock).where(task_clock.c.next_at <= now)
         .order_by(task_clock.c.next_at).limit(limit).with_for_update(skip_locked=True))
    return (await session.execute(q)).all()


ESCALATION_TYPES = {"id": "uuid", "task_id": "uuid", "org_id": "text", "breach": "integer",
                    "stage": "smallint", "due_at": "timestamptz", "breached_at": "timestamptz",
                    "escalated_at": "timestamptz", "escalated_to_role": "text",
                    "escalated_to_user_id": "text", "recipients": "jsonb", "alert_suppressed": "text",
                    "policy_id": "text", "policy_version": "integer"}


async def record_escalations(session: AsyncSession, rows: list[dict]) -> set[uuid.UUID]:
    """Insert ladder rows; return the ids that are new (a rung already fired is skipped)."""
    if not rows:
        return set()
    cols = ", ".join(ESCALATION_TYPES)
    values = ", ".join("ARRAY(SELECT jsonb_array_elements_text(v.recipients))"
                       if c == "recipients" else f"v.{c}" for c in ESCALATION_TYPES)
    got = await session.execute(sa.text(
        f"INSERT INTO escalation ({cols}) SELECT {values} FROM {db.recordset(ESCALATION_TYPES)} "
        "ON CONFLICT DO NOTHING RETURNING id"), db.recordset_rows(rows, ESCALATION_TYPES))
    return set(got.scalars())


async def policy_sets(session: AsyncSession, orgs: set[str]) -> dict[str, tuple[int, list, list]]:
    """org → (version, policies, maintenance windows) for orgs that have set policies."""
    if not orgs:
        return {}
    rows = (await session.execute(sa.select(policy_set).where(policy_set.c.org_id.in_(orgs)))).all()
    return {r.org_id: (r.version, r.policies, r.maintenance) for r in rows}


async def save_policy_set(session: AsyncSession, *, org_id: str, version: int, policies: list,
                          maintenance: list) -> bool:
    """Keep an org's newest policy version; False when this one is not newer."""
    stmt = pg_insert(policy_set).values(org_id=org_id, version=version, policies=policies,
                                        maintenance=maintenance)
    got = await session.execute(stmt.on_conflict_do_update(
        index_elements=[policy_set.c.org_id],
        set_={"version": stmt.excluded.version, "policies": stmt.excluded.policies,
              "maintenance": stmt.excluded.maintenance, "changed_at": sa.func.now()},
        where=policy_set.c.version < stmt.excluded.version).returning(policy_set.c.org_id))
    return got.first() is not None


async def upsert_staff(session: AsyncSession, rows: list[dict]) -> None:
    """Remember who holds which roles (for whom an escalation goes to)."""
    if rows:
        stmt = pg_insert(staff)
        await session.execute(stmt.on_conflict_do_update(
            index_elements=[staff.c.org_id, staff.c.user_id],
            set_={"roles": stmt.excluded.roles, "active": stmt.excluded.active}), rows)


async def managers(session: AsyncSession, orgs: set[str]) -> dict[tuple[str, str], list[str]]:
    """(org, role) → active user ids holding it, by id, for the escalation roles."""
    if not orgs:
        return {}
    role = sa.func.unnest(staff.c.roles).label("role")
    sub = sa.select(staff.c.org_id, staff.c.user_id, role).where(
        staff.c.org_id.in_(orgs), staff.c.active).subquery()
    rows = (await session.execute(sa.select(sub).where(
        sub.c.role.in_(("practice_manager", "org_admin"))).order_by(sub.c.user_id))).all()
    out: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        out.setdefault((r.org_id, r.role), []).append(r.user_id)
    return out


async def open_clocks_of(session: AsyncSession, org_id: str) -> list:
    """An org's active clocks that have not been escalated yet (policy changes re-deadline these)."""
    return (await session.execute(sa.select(task_clock).where(
        task_clock.c.org_id == org_id, task_clock.c.active, task_clock.c.level == 0)
        .with_for_update())).all()
