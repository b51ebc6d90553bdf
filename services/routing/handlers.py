"""Routing's handlers: decide for new tasks; keep staff, rules and workload current."""
from __future__ import annotations

import json

from common.events import Envelope
from common.events.generated import (
    RoutingRulesChanged,
    TaskAssigned,
    TaskCreated,
    TaskRouted,
    TaskStatusChanged,
    UserUpserted,
)
from common.uow import UnitOfWork
from services.routing import domain, store

TERMINAL = {"completed", "cancelled", "failed", "rejected", "entered-in-error"}


def _staff(row) -> domain.Staff:
    return domain.Staff(row.user_id, frozenset(row.roles), frozenset(row.skills), row.capacity,
                        row.active_tasks, row.away,
                        row.last_assigned_at.timestamp() if row.last_assigned_at else 0.0)


async def task_created(batch: list[Envelope[TaskCreated]], uow: UnitOfWork) -> None:
    """Decide where each new task goes (once per task), reserve the owner's capacity
    atomically, and announce the decision with its explanation."""
    s = uow.session
    done = await store.already_routed(s, [e.payload.task_id for e in batch])
    orgs = {e.org_id for e in batch}
    rule_sets = await store.rules_of(s, orgs)
    people: dict[str, list[domain.Staff]] = {o: [] for o in orgs}
    for row in await store.staff_of(s, orgs):
        people[row.org_id].append(_staff(row))
    indexes = {o: domain.StaffIndex(p) for o, p in people.items()}
    decided: list[dict] = []
    for e in batch:
        task = e.payload
        if task.task_id in done:
            continue
        done.add(task.task_id)
        version, rules = rule_sets.get(e.org_id, (0, domain.DEFAULT_RULES))
        staff = indexes[e.org_id]
        while True:
            d = domain.decide(task, rules, staff)
            if d.owner_id is None:
                break
            count = await store.reserve(s, d.owner_id)
            chosen = staff.by_id[d.owner_id]
            if count is not None:
                chosen.active_tasks = count
                chosen.last_assigned = e.occurred_at.timestamp()
                break
            chosen.active_tasks = chosen.capacity  # another replica filled them: next one
        decided.append({"task_id": task.task_id, "org_id": e.org_id, "queue": d.queue,
                        "owner_id": d.owner_id, "rule_id": d.rule_id, "rule_version": version,
                        "reason": d.reason, "candidates": d.candidates})
        await uow.emit(TaskRouted(task_id=task.task_id, queue=d.queue, owner_id=d.owner_id,
                                  rule_id=d.rule_id, rule_version=version, reason=d.reason,
                                  candidates=d.candidates), cause=e, key=str(task.task_id))
    await store.record(s, decided)


async def task_assigned(batch: list[Envelope[TaskAssigned]], uow: UnitOfWork) -> None:
    """A manual (re)assignment moves the task's weight from one person to another."""
    for e in batch:
        t = await store.routed(uow.session, e.payload.task_id)
        if t is None or t.owner_id == e.payload.owner_id:
            continue
        if t.active:
            await store.adjust(uow.session, t.owner_id, -1)
            await store.adjust(uow.session, e.payload.owner_id, +1)
        await store.follow(uow.session, e.payload.task_id, owner_id=e.payload.owner_id)


async def task_status_changed(batch: list[Envelope[TaskStatusChanged]], uow: UnitOfWork) -> None:
    """A finished task no longer counts against its owner."""
    for e in batch:
        if e.payload.to_status not in TERMINAL:
            continue
        t = await store.routed(uow.session, e.payload.task_id)
        if t is not None and t.active:
            await store.adjust(uow.session, t.owner_id, -1)
            await store.follow(uow.session, e.payload.task_id, active=False)


async def user_upserted(batch: list[Envelope[UserUpserted]], uow: UnitOfWork) -> None:
    """Keep the staff directory (roles, skills, capacity, away) current."""
    latest = {e.payload.user_id: e for e in batch}
    await store.upsert_staff(uow.session, [
        {"user_id": p.user_id, "org_id": e.org_id, "roles": p.roles, "skills": p.skills,
         "capacity": p.capacity, "away": p.away, "active": p.active}
        for e in latest.values() for p in [e.payload]])


async def rules_changed(batch: list[Envelope[RoutingRulesChanged]], uow: UnitOfWork) -> None:
    """Apply an org's new rule set at once (no restart); older versions are ignored."""
    for e in batch:
        rules = json.loads(e.payload.rules_json)
        domain.check_rules(rules)  # the gateway validated; a bad set never replaces a good one
        await store.set_rules(uow.session, e.org_id, e.payload.version, rules)


TASK_HANDLERS = {TaskCreated: task_created, TaskAssigned: task_assigned,
                 TaskStatusChanged: task_status_changed}
DIRECTORY_HANDLERS = {UserUpserted: user_upserted, RoutingRulesChanged: rules_changed}
