"""nba's tables and queries: its view of active tasks, the suggestion log, the learnt
action statistics and the decision counts. Nobody else reads them."""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from common import db
from common.db import add_common_tables

metadata = sa.MetaData()
outbox, processed_event = add_common_tables(metadata)

# Statistics levels: 1 = (payer, code or task type), 2 = (payer class, reason category).
PAYER, CLASS, ADVICE = 1, 2, 3  # ADVICE: what payers' people advised (payer_advice)

task = sa.Table(
    "task", metadata,
    sa.Column("task_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("task_type", sa.Text, nullable=False),
    sa.Column("payer_id", sa.Text),
    sa.Column("payer_name", sa.Text),
    sa.Column("payer_class", sa.Text),
    sa.Column("amount", sa.Numeric(12, 2)),
    sa.Column("reason_codes", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("owner_id", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    # Bumped by every event on the task; the precompute loop handles seen_version < version.
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("seen_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tried", ARRAY(sa.Text), nullable=False, server_default="{}"),
    # The action a person chose (accepted or modified): the task's outcome is credited to it.
    sa.Column("pending_action", sa.Text),
    sa.Column("outcome", sa.Text),  # good or bad, once learnt (first outcome wins)
    sa.Column("suggestion_id", UUID(as_uuid=True)),  # the current suggestion
    sa.Column("suggested_action", sa.Text),
    sa.Column("suggested_version", sa.Integer),
    sa.Column("suggested_at", sa.DateTime(timezone=True)),
    sa.Column("cached_until", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_task_owner_queue", "org_id", "owner_id", "due_at", "task_id",
             postgresql_where=sa.text("active")),
    sa.Index("ix_task_dirty", "task_id", postgresql_where=sa.text("seen_version < version")),
)

suggestion = sa.Table(
    "suggestion", metadata,
    sa.Column("suggestion_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("task_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("task_version", sa.Integer, nullable=False),
    sa.Column("task_type", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("greedy_action", sa.Text, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("exploring", sa.Boolean, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decision", sa.Text),
    sa.Column("decided_action", sa.Text),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
)

action_stat = sa.Table(
    "action_stat", metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("level", sa.SmallInteger, primary_key=True),
    sa.Column("scope", sa.Text, primary_key=True),
    sa.Column("action", sa.Text, primary_key=True),
    sa.Column("successes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
)

payer_advice = sa.Table(
    # What a payer's people advised on a logged interaction (its next step), one row per
    # interaction: a corrected next step moves its advice, a repeated event counts once.
    "payer_advice", metadata,
    sa.Column("interaction_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("scope", sa.Text, nullable=False),   # the payer-and-code scope
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("task_id", UUID(as_uuid=True), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_payer_advice_scope", "org_id", "scope"),
)

decision_stat = sa.Table(
    "decision_stat", metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("task_type", sa.Text, primary_key=True),
    sa.Column("action", sa.Text, primary_key=True),  # the suggested action
    sa.Column("decision", sa.Text, primary_key=True),
    sa.Column("n", sa.Integer, nullable=False, server_default="0"),
)

SUGGESTION_TYPES = {"suggestion_id": "uuid", "org_id": "text", "task_id": "uuid",
                    "task_version": "int", "task_type": "text", "action": "text",
                    "greedy_action": "text", "confidence": "float8", "exploring": "bool",
                    "evidence": "text", "reason": "text", "computed_at": "timestamptz"}


async def add_tasks(session: AsyncSession, rows: list[dict]) -> None:
    """Start knowing tasks (a replayed TaskCreated changes nothing)."""
    if rows:
        await session.execute(pg_insert(task).on_conflict_do_nothing(), rows)


async def tasks_by_id(session: AsyncSession, ids, *, org_id: str | None = None,
                      lock: bool = False) -> dict[uuid.UUID, sa.Row]:
    """Known tasks by id (of one org when given)."""
    if not ids:
        return {}
    q = sa.select(task).where(task.c.task_id.in_(list(ids)))
    if org_id is not None:
        q = q.where(task.c.org_id == org_id)
    if lock:
        q = q.order_by(task.c.task_id).with_for_update()
    return {r.task_id: r for r in (await session.execute(q)).all()}


async def update_tasks(session: AsyncSession, changes: dict[uuid.UUID, dict]) -> None:
    """Apply per-task column changes and bump each task's version (one statement per task;
    batches are small: events of one poll)."""
    for tid, values in changes.items():
        await session.execute(sa.update(task).where(task.c.task_id == tid)
                              .values(**values, version=task.c.version + 1))


async def add_outcome(session: AsyncSession, org_id: str, scopes: list[tuple[int, str]],
                      action: str, good: bool) -> None:
    """Count one outcome of an action at each scope."""
    rows = [{"org_id": org_id, "level": lvl, "scope": scope, "action": action,
             "successes": int(good), "failures": int(not good)} for lvl, scope in scopes]
    stmt = pg_insert(action_stat)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=list(action_stat.primary_key.columns),
        set_={"successes": action_stat.c.successes + stmt.excluded.successes,
              "failures": action_stat.c.failures + stmt.excluded.failures}), rows)


async def stats_for(session: AsyncSession, orgs: set[str], scopes: set[str]
                    ) -> dict[tuple[str, int, str], dict[str, tuple[int, int]]]:
    """(org, level, scope) → action → (successes, failures), for the given scopes; at
    level ADVICE, (how many interactions advised it, 0). One statement for both."""
    if not orgs or not scopes:
        return {}
    learnt = sa.select(action_stat.c.org_id, action_stat.c.level, action_stat.c.scope,
                       action_stat.c.action, action_stat.c.successes, action_stat.c.failures
                       ).where(action_stat.c.org_id.in_(orgs), action_stat.c.scope.in_(scopes))
    advised = (sa.select(payer_advice.c.org_id, sa.literal(ADVICE, sa.SmallInteger),
                         payer_advice.c.scope, payer_advice.c.action,
                         sa.func.count().cast(sa.Integer), sa.literal(0, sa.Integer))
               .where(payer_advice.c.org_id.in_(orgs), payer_advice.c.scope.in_(scopes))
               .group_by(payer_advice.c.org_id, payer_advice.c.scope, payer_advice.c.action))
    rows = (await session.execute(sa.union_all(learnt, advised))).all()
    out: dict = {}
    for org_id, level, scope, action, successes, failures in rows:
        out.setdefault((org_id, level, scope), {})[action] = (successes, failures)
    return out


async def record_advice(session: AsyncSession, **values) -> bool:
    """Remember an interaction's advice (replacing an earlier one of the same interaction);
    whether anything changed."""
    stmt = pg_insert(payer_advice).values(**values)
    got = await session.execute(stmt.on_conflict_do_update(
        index_elements=[payer_advice.c.interaction_id],
        set_={"action": stmt.excluded.action, "scope": stmt.excluded.scope, "at": stmt.excluded.at},
        where=payer_advice.c.action != stmt.excluded.action).returning(payer_advice.c.interaction_id))
    return got.first() is not None


async def advice_for(session: AsyncSession, orgs: set[str], scopes: set[str]
                     ) -> dict[tuple[str, str], dict[str, int]]:
    """(org, payer scope) → action → how many interactions advised it."""
    if not orgs or not scopes:
        return {}
    rows = (await session.execute(
        sa.select(payer_advice.c.org_id, payer_advice.c.scope, payer_advice.c.action,
                  sa.func.count().label("n"))
        .where(payer_advice.c.org_id.in_(orgs), payer_advice.c.scope.in_(scopes))
        .group_by(payer_advice.c.org_id, payer_advice.c.scope, payer_advice.c.action))).all()
    out: dict = {}
    for r in rows:
        out.setdefault((r.org_id, r.scope), {})[r.action] = r.n
    return out


# One statement for the log rows and the tasks pointing at them, from one JSON document:
# the same SQL for one suggestion or two thousand (compiled once, one round trip).
_LOG_AND_POINT = sa.text(f"""
WITH ins AS (
  INSERT INTO suggestion ({", ".join(SUGGESTION_TYPES)})
  SELECT * FROM {db.recordset(SUGGESTION_TYPES)}
  RETURNING suggestion_id, task_id, action, task_version, computed_at)
UPDATE task SET suggestion_id = ins.suggestion_id, suggested_action = ins.action,
       suggested_version = ins.task_version, suggested_at = ins.computed_at,
       seen_version = greatest(task.seen_version, ins.task_version), cached_until = :cached_until
FROM ins WHERE task.task_id = ins.task_id
""")


async def log_suggestions(session: AsyncSession, rows: list[dict], cached_until: datetime) -> None:
    """Append suggestions to the log and point their tasks at them (as seen at the version
    they were computed for, cached until)."""
    if rows:
        await session.execute(_LOG_AND_POINT, {**db.recordset_rows(rows, SUGGESTION_TYPES),
                                               "cached_until": cached_until})


_MARK_SEEN = sa.text("""
UPDATE task SET seen_version = greatest(task.seen_version, v.ver), cached_until = :cached_until
FROM unnest(CAST(:ids AS uuid[]), CAST(:vers AS int[])) AS v(task_id, ver)
WHERE task.task_id = v.task_id
""")


async def mark_seen(session: AsyncSession, versions: dict[uuid.UUID, int],
                    cached_until: datetime | None = None) -> None:
    """Tasks looked at by the precompute at these versions, and until when they are cached."""
    if versions:
        await session.execute(_MARK_SEEN, {"ids": list(versions), "vers": list(versions.values()),
                                           "cached_until": cached_until})


async def suggestions_by_id(session: AsyncSession, ids) -> dict[uuid.UUID, sa.Row]:
    """Logged suggestions by id."""
    if not ids:
        return {}
    rows = (await session.execute(sa.select(suggestion).where(
        suggestion.c.suggestion_id.in_(list(ids))))).all()
    return {r.suggestion_id: r for r in rows}


async def decide(session: AsyncSession, suggestion_id: uuid.UUID, *, decision: str,
                 action: str | None, by: str, at: datetime) -> sa.Row | None:
    """Record the first decision on a suggestion; None when it is unknown or decided before."""
    return (await session.execute(
        sa.update(suggestion).where(suggestion.c.suggestion_id == suggestion_id,
                                    suggestion.c.decision.is_(None))
        .values(decision=decision, decided_action=action, decided_by=by, decided_at=at)
        .returning(suggestion))).first()


async def count_decision(session: AsyncSession, *, org_id: str, task_type: str, action: str,
                         decision: str) -> None:
    stmt = pg_insert(decision_stat).values(org_id=org_id, task_type=task_type, action=action,
                                           decision=decision, n=1)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=list(decision_stat.primary_key.columns),
        set_={"n": decision_stat.c.n + 1}))


async def decision_counts(session: AsyncSession) -> list[sa.Row]:
    """(task_type, action, decision, n) over every org, for the acceptance-rate gauges."""
    return (await session.execute(sa.select(
        decision_stat.c.task_type, decision_stat.c.action, decision_stat.c.decision,
        sa.func.sum(decision_stat.c.n).label("n"))
        .group_by(decision_stat.c.task_type, decision_stat.c.action,
                  decision_stat.c.decision))).all()


async def dirty_tasks(session: AsyncSession, limit: int, top: int) -> list[sa.Row]:
    """Tasks changed since the precompute last saw them, each with whether it is active and in
    the first ``top`` of its owner's queue (the gateway's My Tasks order: due_at, id)."""
    rank = sa.text(
        "(SELECT count(*) FROM (SELECT 1 FROM task t2 WHERE t2.org_id = task.org_id "
        "AND t2.owner_id = task.owner_id AND t2.active "
        "AND (t2.due_at, t2.task_id) < (task.due_at, task.task_id) "
        f"ORDER BY t2.due_at, t2.task_id LIMIT {int(top)}) x) < {int(top)}")
    q = (sa.select(task, sa.and_(task.c.active, task.c.owner_id.is_not(None), rank).label("in_top"))
         .where(task.c.seen_version < task.c.version)
         .limit(limit).with_for_update(skip_locked=True, of=task))
    return (await session.execute(q)).all()


async def tops_to_refresh(session: AsyncSession, *, top: int, before: datetime,
                          limit: int) -> list[sa.Row]:
    """The first ``top`` tasks of every owner's queue whose cache ends before ``before``."""
    ranked = sa.select(task, sa.func.row_number().over(
        partition_by=(task.c.org_id, task.c.owner_id),
        order_by=(task.c.due_at, task.c.task_id)).label("rk")).where(
        task.c.active, task.c.owner_id.is_not(None)).subquery()
    q = sa.select(ranked).where(ranked.c.rk <= top, sa.or_(
        ranked.c.cached_until.is_(None), ranked.c.cached_until < before)).limit(limit)
    return (await session.execute(q)).all()
