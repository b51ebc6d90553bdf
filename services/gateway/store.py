"""The gateway's tables: the task record and its history. Nobody else reads them."""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import add_common_tables

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

org = sa.Table(
    "org", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
app_user = sa.Table(
    "app_user", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("roles", ARRAY(sa.Text), nullable=False),
    sa.Column("skills", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("capacity", sa.Integer, nullable=False, server_default="40"),
    sa.Column("away", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("phone", sa.Text),
    # An e-mail is unique within an org, not across orgs: one person may work for two
    # practices, and no org can learn that an address is in use in another.
    sa.UniqueConstraint("org_id", "email", name="app_user_org_email_key"),
)
routing_rule_set = sa.Table(
    "routing_rule_set", metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("rules", JSONB, nullable=False),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)


async def latest_rules(session: AsyncSession, org_id: str):
    """An org's current routing rule set, or None (it routes by the defaults)."""
    return (await session.execute(sa.select(routing_rule_set).where(
        routing_rule_set.c.org_id == org_id).order_by(routing_rule_set.c.version.desc())
        .limit(1))).first()


async def add_rules(session: AsyncSession, org_id: str, rules: list, changed_by: str) -> int:
    """Store a new version of an org's rules; return its number."""
    current = await latest_rules(session, org_id)
    version = (current.version if current else 0) + 1
    await session.execute(sa.insert(routing_rule_set).values(
        org_id=org_id, version=version, rules=rules, changed_by=changed_by))
    return version


async def org_skills(session: AsyncSession, org_id: str) -> set[str]:
    """Every skill some active user of the org has."""
    got = await session.execute(sa.select(sa.func.unnest(app_user.c.skills)).where(
        app_user.c.org_id == org_id, app_user.c.active))
    return set(got.scalars())


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
saved_view = sa.Table(
    "saved_view", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("owner_id", sa.Text),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("filters", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
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


async def note_assignment(session: AsyncSession, task_id: uuid.UUID, event_id: uuid.UUID) -> None:
    """Remember the TaskAssigned just announced for a task that was stored with its owner
    (a sub-task): no version of its own."""
    await session.execute(sa.update(task).where(task.c.id == task_id)
                          .values(assigned_event_id=event_id))


async def add_history(session: AsyncSession, rows: list[dict]) -> None:
    """Append rows to tasks' histories, in one statement."""
    if rows:
        await session.execute(sa.insert(task_history), rows)


# Sort orders for the queue, each a keyset: (columns, descending?). The id breaks ties.
SORTS: dict[str, tuple[tuple[str, ...], bool]] = {
    "due": (("due_at",), False),
    "priority": (("priority_rank", "due_at"), False),
    "newest": (("created_at",), True),
    "updated": (("updated_at",), True),
}


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
    from services.gateway import domain

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


def column_counts(f, *, org_id: str, user_id: str, now: datetime) -> sa.Select:
    """How many tasks per (status, businessStatus) match the filter, for board badges."""
    base = filtered(sa.select(task.c.status, task.c.business_status, sa.func.count()), f,
                    org_id=org_id, user_id=user_id, now=now)
    return base.group_by(task.c.status, task.c.business_status)


def in_column(column: str) -> sa.ColumnElement[bool]:
    """The board column a task shows in, as a condition (businessStatus decides first)."""
    from services.gateway import domain

    review = sa.func.lower(sa.func.coalesce(task.c.business_status, "")).in_(
        list(domain.COLUMN_BY_BUSINESS_STATUS))
    if column == "Review":
        return review
    return task.c.status.in_([s for s, c in domain.COLUMN_BY_STATUS.items() if c == column]) & ~review


def board_column(f, column: str, *, org_id: str, user_id: str, now: datetime,
                 limit: int) -> sa.Select:
    """The first cards of one board column: open work by priority then due date, done
    work newest first."""
    from services.gateway import domain

    f = f.model_copy(update={"status": list(domain.STATUSES)})
    q = filtered(sa.select(task), f, org_id=org_id, user_id=user_id, now=now).where(
        in_column(column))
    if column == "Done":
        return q.order_by(task.c.updated_at.desc(), task.c.id.desc()).limit(limit)
    return q.order_by(task.c.priority_rank, task.c.due_at, task.c.id).limit(limit)


def tasks_by_id(org_id: str, ids: list[uuid.UUID]) -> sa.Select:
    """Those of the given tasks that belong to the org."""
    return sa.select(task).where(task.c.org_id == org_id, task.c.id.in_(ids))


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


async def insert_subtask(session: AsyncSession, values: dict) -> None:
    """Store a sub-task created by staff."""
    await session.execute(sa.insert(task).values(**values))


async def subtasks_of(session: AsyncSession, org_id: str, task_id: uuid.UUID) -> list:
    """A task's sub-tasks."""
    return (await session.execute(sa.select(task).where(
        task.c.part_of == task_id, task.c.org_id == org_id).order_by(task.c.created_at))).all()


async def add_note(session: AsyncSession, **values) -> None:
    """Store a note on a task."""
    await session.execute(sa.insert(task_note).values(**values))


async def notes_of(session: AsyncSession, org_id: str, task_id: uuid.UUID) -> list:
    """A task's notes, oldest first."""
    return (await session.execute(sa.select(task_note).where(
        task_note.c.task_id == task_id, task_note.c.org_id == org_id).order_by(task_note.c.at))).all()


async def add_time(session: AsyncSession, **values) -> None:
    """Store a time entry on a task."""
    await session.execute(sa.insert(task_time).values(**values))


async def time_of(session: AsyncSession, org_id: str, task_id: uuid.UUID) -> list:
    """A task's time entries, oldest first."""
    return (await session.execute(sa.select(task_time).where(
        task_time.c.task_id == task_id, task_time.c.org_id == org_id).order_by(task_time.c.at))).all()


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


def audit_query(*, org_id: str, patient_id=None, payer_id=None, task_type=None, actor_id=None,
                task_id=None, since=None, until=None, limit: int = 500) -> sa.Select:
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
    return q.order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit)


# -- directory --

async def accounts_by_email(session: AsyncSession, email: str, *, org_id: str | None = None,
                            limit: int) -> list:
    """The active accounts with this e-mail (case-insensitive), oldest first: only
    ``org_id``'s when given, and at most ``limit``."""
    q = sa.select(app_user).where(app_user.c.email == email.lower(), app_user.c.active)
    if org_id is not None:
        q = q.where(app_user.c.org_id == org_id)
    return list((await session.execute(
        q.order_by(app_user.c.created_at, app_user.c.id).limit(limit))).all())


async def email_taken(session: AsyncSession, org_id: str, email: str) -> bool:
    """Whether an account of this org, active or not, has this e-mail."""
    return (await session.execute(sa.select(sa.literal(1)).where(
        app_user.c.org_id == org_id, app_user.c.email == email.lower()).limit(1))).first() is not None


async def insert_user(session: AsyncSession, **values) -> None:
    """Create a user; an e-mail already taken in the org raises IntegrityError (never an
    update)."""
    await session.execute(sa.insert(app_user).values(**values))


async def user_by_id(session: AsyncSession, org_id: str, user_id: str):
    """A user of one org, or None."""
    return (await session.execute(sa.select(app_user).where(
        app_user.c.id == user_id, app_user.c.org_id == org_id))).first()


async def users_of(session: AsyncSession, org_id: str) -> list:
    """An org's users, by name."""
    return (await session.execute(sa.select(app_user).where(
        app_user.c.org_id == org_id).order_by(app_user.c.name))).all()


async def ensure_org(session: AsyncSession, org_id: str, name: str) -> None:
    """Create an org if it does not exist."""
    await session.execute(pg_insert(org).values(id=org_id, name=name).on_conflict_do_nothing())


async def upsert_user(session: AsyncSession, **values) -> str:
    """Create or update a user (by org and e-mail); its id (an existing account keeps its
    own)."""
    stmt = pg_insert(app_user).values(**values)
    return (await session.execute(stmt.on_conflict_do_update(
        index_elements=[app_user.c.org_id, app_user.c.email],
        set_={k: stmt.excluded[k] for k in values if k not in ("id", "org_id", "email")})
        .returning(app_user.c.id))).scalar_one()


async def views_of(session: AsyncSession, org_id: str, user_id: str) -> list:
    """Saved views a user sees: the org's shared ones and their own."""
    return (await session.execute(sa.select(saved_view).where(
        saved_view.c.org_id == org_id,
        saved_view.c.owner_id.is_(None) | (saved_view.c.owner_id == user_id))
        .order_by(saved_view.c.owner_id.is_not(None), saved_view.c.created_at))).all()



async def suggestion_decided(session: AsyncSession, task_id: uuid.UUID, suggestion_id: str) -> bool:
    """Whether someone already decided on this nba suggestion for the task."""
    return (await session.execute(sa.select(sa.literal(1)).where(
        task_history.c.task_id == task_id, task_history.c.action == "suggestion_decided",
        task_history.c.detail["suggestion_id"].astext == suggestion_id).limit(1))).first() is not None


async def history_of(session: AsyncSession, org_id: str, task_id: uuid.UUID) -> list:
    """A task's history, oldest first."""
    return (await session.execute(
        sa.select(task_history)
        .where(task_history.c.task_id == task_id, task_history.c.org_id == org_id)
        .order_by(task_history.c.id))).all()
