"""The task record: tasks, their versions, history, notes and time log."""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from common.events.generated import TaskCreated
from services.gateway import domain
from services.gateway.store import metadata

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
    # The TaskAssigned the gateway last announced (an escalation, a person, a sub-task's
    # chosen owner): a routing decision caused by any other event came too late to undo it.
    sa.Column("assigned_event_id", UUID(as_uuid=True)),
    sa.Column("part_of", UUID(as_uuid=True)),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("escalation_level", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("sla_paused_at", sa.DateTime(timezone=True)),  # the SLA clock is stopped (on hold)
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.text("clock_timestamp()")),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.text("clock_timestamp()")),
    sa.Index("ix_task_org_due", "org_id", "due_at", "id"),
    sa.Index("ix_task_org_queue", "org_id", "queue", "due_at", "id"),
    sa.Index("ix_task_org_updated", "org_id", "updated_at", "id"),
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

task_note = sa.Table(
    "task_note", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("task_id", UUID(as_uuid=True), nullable=False),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("author_id", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)
task_time = sa.Table(
    "task_time", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("task_id", UUID(as_uuid=True), nullable=False),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("user_id", sa.Text, nullable=False),
    sa.Column("minutes", sa.Integer, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("performed_on", sa.Date, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("note", sa.Text),
)
task_version = sa.Table(
    "task_version", metadata,
    sa.Column("task_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("snapshot", JSONB, nullable=False),
)


async def versions_of(session: AsyncSession, org_id: str, task_id: uuid.UUID) -> list:
    """Every stored version of a task of one org, newest first."""
    return (await session.execute(
        sa.select(task_version).where(task_version.c.task_id == task_id,
                                      task_version.c.snapshot["org_id"].astext == org_id)
        .order_by(task_version.c.version.desc()))).all()


async def version_of(session: AsyncSession, org_id: str, task_id: uuid.UUID, version: int):
    """One stored version of a task of one org, or None."""
    return (await session.execute(
        sa.select(task_version).where(task_version.c.task_id == task_id,
                                      task_version.c.version == version,
                                      task_version.c.snapshot["org_id"].astext == org_id))).first()




async def create_tasks(session: AsyncSession, rows: list[dict]) -> set[uuid.UUID]:
    """Store new tasks in one statement; return the ids that were not stored before."""
    if not rows:
        return set()
    got = await session.execute(
        pg_insert(task).on_conflict_do_nothing().returning(task.c.id), rows)
    return set(got.scalars())


async def create_from_events(session: AsyncSession, created: list[dict]) -> set[uuid.UUID]:
    """Store tasks announced as TaskCreated, each ``{payload, org_id, at, actor, detail,
    owner_id?, event_id?}``: the task 'requested' (ranked by priority) and its 'created'
    history row, in two statements. A task stored before (a redelivery, the same id twice
    in a batch) is left alone and gets no second row; return the ids stored now."""
    fresh = await create_tasks(session, [{
        **c["payload"].model_dump(exclude={"task_id"}), "id": c["payload"].task_id,
        "org_id": c["org_id"], "status": "requested",
        "priority_rank": domain.PRIORITY_RANK.get(c["payload"].priority, 9),
        "owner_id": c.get("owner_id"), "created_at": c["at"]} for c in created])
    new, history = set(fresh), []
    for c in created:
        p: TaskCreated = c["payload"]
        if p.task_id in fresh:
            fresh.discard(p.task_id)
            history.append({"task_id": p.task_id, "org_id": c["org_id"], "at": c["at"],
                            "actor": c["actor"], "action": "created", "to_status": "requested",
                            "event_id": c.get("event_id"), "detail": c["detail"]})
    await add_history(session, history)
    return new


async def set_routes(session: AsyncSession, routes: list[dict]) -> dict[uuid.UUID, sa.Row]:
    """Apply routing decisions ({id, org_id, queue, owner_id, reason, reoffer, cause}, one
    per task) in one statement; return the tasks found in their org, by id, each with
    ``superseded`` and the ``owner_id`` it has now.

    A decision is superseded when the gateway announced an owner (assigned_event_id) that
    the decision was not caused by (``cause``: the event routing decided on): routing
    decided without knowing of that escalation or person's choice, so the owner and the
    routing reason stay; the queue is still routing's to set. Either order of arrival,
    and any redelivery, ends the same."""
    if not routes:
        return {}
    v = sa.values(sa.column("id", UUID(as_uuid=True)), sa.column("org_id", sa.Text),
                  sa.column("queue", sa.Text), sa.column("owner_id", sa.Text),
                  sa.column("reason", sa.Text), sa.column("reoffer", sa.Boolean),
                  sa.column("cause", UUID(as_uuid=True)), name="v").data(
        [(r["id"], r["org_id"], r["queue"], r["owner_id"], r["reason"], r.get("reoffer", False),
          r.get("cause")) for r in routes])
    cause = sa.cast(v.c.cause, UUID(as_uuid=True))  # a VALUES column of NULLs is text
    superseded = (task.c.assigned_event_id.is_not(None)
                  & task.c.assigned_event_id.is_distinct_from(cause))
    changes = ~superseded | task.c.queue.is_distinct_from(v.c.queue)
    got = await session.execute(
        sa.update(task).where(task.c.id == v.c.id, task.c.org_id == v.c.org_id)
        # An owner staff set by hand stays unless routing named one; a re-offer (an
        # offer expired) sets the owner routing names, even none.
        .values(queue=v.c.queue,
                owner_id=sa.case((superseded, task.c.owner_id), (v.c.reoffer, v.c.owner_id),
                                 else_=sa.func.coalesce(v.c.owner_id, task.c.owner_id)),
                routing_reason=sa.case((superseded, task.c.routing_reason), else_=v.c.reason),
                version=task.c.version + sa.case((changes, 1), else_=0),
                updated_at=sa.case((changes, sa.text("clock_timestamp()")), else_=task.c.updated_at))
        .returning(task.c.id, task.c.owner_id, superseded.label("superseded")))
    return {row.id: row for row in got}


async def set_due(session: AsyncSession, task_id: uuid.UUID, *, due_at: datetime,
                  paused_at: datetime | None) -> None:
    """Show the SLA deadline that counts (and whether its clock is stopped): no version of
    its own, as staff editing the task are not in conflict with the clock."""
    await session.execute(sa.update(task).where(task.c.id == task_id)
                          .values(due_at=due_at, sla_paused_at=paused_at))


async def note_assignment(session: AsyncSession, task_id: uuid.UUID, event_id: uuid.UUID) -> None:
    """Remember the TaskAssigned just announced for a task that was stored with its owner
    (a sub-task): no version of its own."""
    await session.execute(sa.update(task).where(task.c.id == task_id)
                          .values(assigned_event_id=event_id))


async def add_history(session: AsyncSession, rows: list[dict]) -> None:
    """Append rows to tasks' histories, in one statement."""
    if rows:
        await session.execute(sa.insert(task_history), rows)


async def tasks_by_id(session: AsyncSession, org_id: str, ids: list[uuid.UUID]) -> list:
    """Those of the given tasks that belong to the org."""
    return (await session.execute(
        sa.select(task).where(task.c.org_id == org_id, task.c.id.in_(ids)))).all()


async def tasks_by_prefix(session: AsyncSession, org_id: str, prefix: str) -> list[uuid.UUID]:
    """Ids of the org's tasks whose id starts with ``prefix`` (hex digits; at most two)."""
    return list((await session.execute(sa.select(task.c.id).where(
        task.c.org_id == org_id, sa.cast(task.c.id, sa.Text).like(f"{prefix}%")).limit(2))).scalars())


async def get_task(session: AsyncSession, org_id: str, task_id: uuid.UUID, *,
                   for_update: bool = False):
    """One task of one org, or None (locked for the transaction with ``for_update``)."""
    q = sa.select(task).where(task.c.id == task_id, task.c.org_id == org_id)
    return (await session.execute(q.with_for_update() if for_update else q)).first()


async def update_task(session: AsyncSession, task_id: uuid.UUID, **values) -> int:
    """Change a task and bump its version; return the new version."""
    return (await session.execute(
        sa.update(task).where(task.c.id == task_id)
        .values(**values, version=task.c.version + 1, updated_at=sa.text("clock_timestamp()"))
        .returning(task.c.version))).scalar_one()


async def _of_task(session: AsyncSession, table: sa.Table, org_id: str, task_id: uuid.UUID, *,
                   by: str = "task_id", order: str) -> list:
    """The rows of one task of one org in a table of the task record, in ``order``."""
    return (await session.execute(sa.select(table).where(
        table.c[by] == task_id, table.c.org_id == org_id).order_by(table.c[order]))).all()


async def subtasks_of(session: AsyncSession, org_id: str, task_id: uuid.UUID) -> list:
    """A task's sub-tasks."""
    return await _of_task(session, task, org_id, task_id, by="part_of", order="created_at")


async def add_note(session: AsyncSession, **values) -> None:
    """Store a note on a task."""
    await session.execute(sa.insert(task_note).values(**values))


async def notes_of(session: AsyncSession, org_id: str, task_id: uuid.UUID) -> list:
    """A task's notes, oldest first."""
    return await _of_task(session, task_note, org_id, task_id, order="at")


async def add_time(session: AsyncSession, **values) -> None:
    """Store a time entry on a task."""
    await session.execute(sa.insert(task_time).values(**values))


async def time_of(session: AsyncSession, org_id: str, task_id: uuid.UUID) -> list:
    """A task's time entries, oldest first."""
    return await _of_task(session, task_time, org_id, task_id, order="at")


async def suggestion_decided(session: AsyncSession, task_id: uuid.UUID, suggestion_id: str) -> bool:
    """Whether someone already decided on this nba suggestion for the task."""
    return (await session.execute(sa.select(sa.literal(1)).where(
        task_history.c.task_id == task_id, task_history.c.action == "suggestion_decided",
        task_history.c.detail["suggestion_id"].astext == suggestion_id).limit(1))).first() is not None


async def history_of(session: AsyncSession, org_id: str, task_id: uuid.UUID) -> list:
    """A task's history, oldest first."""
    return await _of_task(session, task_history, org_id, task_id, order="id")
