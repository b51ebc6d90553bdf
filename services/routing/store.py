"""Routing's tables: staff and their live workload, each org's rule set, every decision."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from common import db
from common.db import add_common_tables

metadata = sa.MetaData()
outbox, processed_event = add_common_tables(metadata)

staff = sa.Table(
    "staff", metadata,
    sa.Column("user_id", sa.Text, primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("roles", ARRAY(sa.Text), nullable=False),
    sa.Column("skills", ARRAY(sa.Text), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("away", sa.Boolean, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("active_tasks", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_assigned_at", sa.DateTime(timezone=True)),
)
# Changes (a new random value) whenever the org's staff directory does: a worker keeps its
# staff index while the stamp it was built at is current.
staff_stamp = sa.Table(
    "staff_stamp", metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("stamp", UUID(as_uuid=True), nullable=False,
              server_default=sa.text("gen_random_uuid()")),
)
rule_set = sa.Table(
    "rule_set", metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("rules", JSONB, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
)
# A task routing decided: the decision (queue, rule and version, reason, candidates with
# their scores) and what routing follows (whom it counts against, its offer).
routed_task = sa.Table(
    "routed_task", metadata,
    sa.Column("task_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("queue", sa.Text, nullable=False, server_default="default"),
    sa.Column("owner_id", sa.Text),
    sa.Column("rule_id", sa.Text),
    sa.Column("rule_version", sa.Integer),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("candidates", JSONB, nullable=False, server_default="[]"),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("task", JSONB),  # the TaskCreated payload, while an offer may expire
    sa.Column("rule_pos", sa.Integer),
    sa.Column("target_pos", sa.Integer),
    sa.Column("offered", JSONB, nullable=False, server_default="[]"),
    sa.Column("offer_expires_at", sa.DateTime(timezone=True)),
)


async def upsert_staff(session: AsyncSession, rows: list[dict]) -> None:
    """Take staff changes from the directory (their workload stays as counted) and give
    their orgs a new stamp."""
    if rows:
        stmt = pg_insert(staff)
        await session.execute(stmt.on_conflict_do_update(
            index_elements=[staff.c.user_id],
            set_={c: stmt.excluded[c] for c in ("org_id", "roles", "skills", "capacity",
                                               "away", "active")}), rows)
        stamp = pg_insert(staff_stamp).values([{"org_id": o} for o in {r["org_id"] for r in rows}])
        await session.execute(stamp.on_conflict_do_update(
            index_elements=[staff_stamp.c.org_id], set_={"stamp": sa.func.gen_random_uuid()}))


_SNAPSHOT = sa.text("""
SELECT
  (SELECT coalesce(json_agg(task_id), '[]') FROM routed_task
    WHERE task_id = ANY(CAST(:ids AS uuid[]))),
  (SELECT json_agg(json_build_array(o.org_id, s.stamp, r.version, r.changed_at))
    FROM unnest(CAST(:orgs AS text[])) AS o(org_id)
    LEFT JOIN staff_stamp s ON s.org_id = o.org_id
    LEFT JOIN rule_set r ON r.org_id = o.org_id),
  (SELECT coalesce(json_agg(json_build_array(org_id, user_id, active_tasks,
                                             extract(epoch FROM last_assigned_at))), '[]')
    FROM staff WHERE org_id = ANY(CAST(:orgs AS text[])) AND active)""")


@dataclass
class Snapshot:
    routed: set[uuid.UUID]  # which of the asked tasks have a decision already
    # per org, what its staff index and rule set are built from: (staff stamp, (rule set
    # version, change time)); None where the org has no staff or no rule set
    versions: dict[str, tuple]
    # (org, user, active tasks, last assigned as epoch seconds)
    loads: list[tuple[str, str, int, float]]


async def snapshot(session: AsyncSession, org_ids: set[str],
                   task_ids: list[uuid.UUID] = ()) -> Snapshot:
    """What a poll needs to know before deciding, in one round trip: which tasks are
    routed already, whether the orgs' staff or rules changed, and everyone's load."""
    routed, versions, loads = (await session.execute(_SNAPSHOT, {
        "ids": db.array_literal(task_ids), "orgs": db.array_literal(org_ids)})).one()
    return Snapshot(
        {uuid.UUID(t) for t in routed},
        {org: (stamp, (version, changed) if version is not None else None)
         for org, stamp, version, changed in versions or ()},
        [(org, u, n, last or 0.0) for org, u, n, last in loads])


def _texts(values):
    """``values`` as a text[] parameter (one array literal; see db.array_literal)."""
    return sa.cast(sa.bindparam(None, db.array_literal(values), type_=sa.Text), ARRAY(sa.Text))


async def staff_of(session: AsyncSession, org_ids: set[str]) -> list:
    """Active staff of these orgs, with their workload."""
    return (await session.execute(sa.select(staff).where(
        staff.c.org_id == sa.any_(_texts(org_ids)), staff.c.active))).all()


async def rules_of(session: AsyncSession, org_ids: set[str]) -> dict[str, tuple[int, list]]:
    """Each org's current rule set (version, rules); orgs without one are absent."""
    got = await session.execute(sa.select(rule_set).where(
        rule_set.c.org_id == sa.any_(_texts(org_ids))))
    return {r.org_id: (r.version, r.rules) for r in got}


async def set_rules(session: AsyncSession, org_id: str, version: int, rules: list) -> None:
    """Keep a rule set if it is newer than the one we have."""
    stmt = pg_insert(rule_set).values(org_id=org_id, version=version, rules=rules)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[rule_set.c.org_id],
        set_={"version": version, "rules": rules, "changed_at": sa.func.now()},
        where=rule_set.c.version < version))


async def reserve(session: AsyncSession, user_id: str) -> int | None:
    """Count one more active task for a user unless at capacity (atomic, so replicas
    never overfill anyone); their new count, or None."""
    return (await session.execute(
        sa.update(staff).where(staff.c.user_id == user_id, staff.c.active_tasks < staff.c.capacity)
        .values(active_tasks=staff.c.active_tasks + 1, last_assigned_at=sa.func.clock_timestamp())
        .returning(staff.c.active_tasks))).scalar()


async def reserve_many(session: AsyncSession, wanted: dict[str, int]) -> dict[str, int]:
    """Count k more active tasks for each user in one statement, for those who have room
    for all k (atomic, so replicas never overfill anyone); their new counts. A user
    missing from the answer got nothing reserved."""
    if not wanted:
        return {}
    got = await session.execute(sa.text("""
        UPDATE staff SET active_tasks = staff.active_tasks + w.k,
                         last_assigned_at = clock_timestamp()
        FROM unnest(CAST(:ids AS text[]), CAST(:ks AS int[])) AS w(id, k)
        WHERE staff.user_id = w.id AND staff.active_tasks + w.k <= staff.capacity
        RETURNING staff.user_id, staff.active_tasks"""),
        {"ids": db.array_literal(wanted), "ks": db.array_literal(wanted.values())})
    return {r[0]: r[1] for r in got}


async def counts(session: AsyncSession, user_ids: list[str]) -> dict[str, int]:
    """Users' active task counts as the database has them now."""
    got = await session.execute(sa.select(staff.c.user_id, staff.c.active_tasks)
                                .where(staff.c.user_id.in_(user_ids)))
    return {r[0]: r[1] for r in got}


async def adjust(session: AsyncSession, user_id: str | None, delta: int) -> None:
    """Change a user's active task count (never below zero)."""
    if user_id:
        await session.execute(sa.update(staff).where(staff.c.user_id == user_id).values(
            active_tasks=sa.func.greatest(staff.c.active_tasks + delta, 0)))


DECISION = {"task_id": "uuid", "org_id": "text", "queue": "text", "owner_id": "text",
            "rule_id": "text", "rule_version": "int4", "reason": "text", "candidates": "jsonb"}
OFFER = {"task": "jsonb", "rule_pos": "int4", "target_pos": "int4", "offered": "jsonb",
         "offer_expires_at": "timestamptz"}


async def record(session: AsyncSession, rows: list[tuple]) -> None:
    """Keep each decision and start following the task's owner and offer (rows: the
    DECISION then the OFFER columns): one binary COPY (these tasks have no row yet: the
    poll's ``snapshot`` said so, and a task's events are consumed in order by one worker;
    a race would fail the batch, which is then redone)."""
    if rows:
        await db.copy_rows(session, "routed_task", DECISION | OFFER, rows)


async def routed(session: AsyncSession, task_id: uuid.UUID):
    """A task routing follows (owner, active), or None; locked for this transaction."""
    return (await session.execute(sa.select(routed_task).where(
        routed_task.c.task_id == task_id).with_for_update())).first()


async def follow(session: AsyncSession, task_id: uuid.UUID, **values) -> None:
    await session.execute(sa.update(routed_task).where(routed_task.c.task_id == task_id)
                          .values(**values))


async def expired_offers(session: AsyncSession, limit: int = 100) -> list:
    """Active tasks whose offer ran out, locked (other replicas skip them)."""
    return (await session.execute(
        sa.select(routed_task).where(routed_task.c.offer_expires_at <= sa.func.now(),
                                     routed_task.c.active)
        .order_by(routed_task.c.offer_expires_at).limit(limit)
        .with_for_update(skip_locked=True))).all()

