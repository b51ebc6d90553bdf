"""Reading the task record (every read of a task is audited) and deciding on nba's
suggestion for a task."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from common.runtime import Context
from services.gateway import auth, domain
from services.gateway.audit import store as audit_store
from services.gateway.errors import NotFound
from services.gateway.tasks import actions, store, suggestions
from services.gateway.tasks.models import HistoryOut, NoteOut, TaskDetail, TaskOut, TimeOut, task_out


async def task_detail(s, user: auth.User, task_id: uuid.UUID) -> TaskDetail:
    """A task of the user's org with everything on it; the read is audited. NotFound if none."""
    row = await store.get_task(s, user.org_id, task_id)
    if row is None:
        raise NotFound(f"task {task_id} not found", what="task")
    now = datetime.now(UTC)
    history = await store.history_of(s, user.org_id, task_id)
    notes = await store.notes_of(s, user.org_id, task_id)
    times = await store.time_of(s, user.org_id, task_id)
    subs = await store.subtasks_of(s, user.org_id, task_id)
    await audit_store.audit(s, org_id=user.org_id, actor_id=user.id, action="read", task_row=row)
    await s.commit()
    out = task_out(row, now)
    await suggestions.attach(user.org_id, [out])
    base = out.model_dump()
    return TaskDetail(
        **base, details=row.details, cpt_codes=row.cpt_codes, icd_codes=row.icd_codes,
        allowed_next=domain.allowed_next(row.status),
        history=[HistoryOut.model_validate(h) for h in history],
        notes=[NoteOut.model_validate(n) for n in notes],
        time_entries=[TimeOut.model_validate(t) for t in times],
        total_minutes=sum(t.minutes for t in times),
        subtasks=[task_out(x, now) for x in subs])


async def tasks_by_id(s, user: auth.User, ids: list[uuid.UUID]) -> list[TaskOut]:
    """Several tasks of the user's org by id, with nba's suggestions."""
    now = datetime.now(UTC)
    items = [task_out(row, now) for row in await store.tasks_by_id(s, user.org_id, ids)]
    return await suggestions.attach(user.org_id, items)


async def decide_suggestion(c: Context, user: auth.User, task_id: uuid.UUID,
                            body: suggestions.DecisionIn) -> suggestions.DecisionOut:
    """Accept, modify or dismiss nba's suggestion for a task: checked against nba's log
    (NotFound unknown, Conflict decided before, Unavailable nba away), audited, announced
    as SuggestionDecided."""
    async with actions.unit_of_work(c) as uow:
        row = await actions.locked(uow, user, task_id)
        # The task stays locked while nba is asked: two decisions on it queue up.
        logged = await suggestions.NBA.logged(user.org_id, body.suggestion_id)
        if logged is None:
            raise NotFound(f"no suggestion {body.suggestion_id} for task {task_id}")
        return await suggestions.decide(uow, user, row, body, logged)
