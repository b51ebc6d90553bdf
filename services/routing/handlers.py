"""Routing's handlers: decide for new tasks; keep staff, rules and workload current."""
from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

from common import logs, timers, vocabulary
from common.events import Envelope
from common.events.generated import (
    RoutingRulesChanged,
    TaskAssigned,
    TaskCreated,
    TaskRouted,
    TaskStatusChanged,
    UserUpserted,
)
from common.routing_rules import DEFAULT_RULES, check_rules
from common.uow import UnitOfWork
from services.routing import domain, store

# Each org's staff index and rule set, kept between polls while the org's staff stamp and
# rule set version are unchanged (only the loads are read again each poll):
# org → (what it was built from, what was built).
_indexes: dict[str, tuple[object, domain.StaffIndex]] = {}
_rule_sets: dict[str, tuple[object, domain.RuleSet]] = {}
DEFAULT_RULE_SET = domain.RuleSet.of(DEFAULT_RULES)
NOT_YET_ACCEPTED = {"draft", "requested", "received"}
log = logs.get(__name__)


def _staff(row) -> domain.Staff:
    return domain.Staff(row.user_id, frozenset(row.roles), frozenset(row.skills), row.capacity,
                        row.active_tasks, row.away,
                        row.last_assigned_at.timestamp() if row.last_assigned_at else 0.0)


async def _choose(session, task: TaskCreated, rules: domain.RuleSet, staff: domain.StaffIndex,
                  **resume) -> domain.Decision:
    """Decide, then reserve the owner's capacity atomically; if another replica filled
    that person meanwhile, decide again without them."""
    while True:
        d = domain.decide(task, rules, staff, **resume)
        if d.owner_id is None:
            return d
        count = await store.reserve(session, d.owner_id)
        if count is not None:
            staff.set_load(d.owner_id, count, datetime.now(UTC).timestamp())
            return d
        staff.set_load(d.owner_id, staff.by_id[d.owner_id].capacity)


def _offer(task: TaskCreated, d: domain.Decision, offered: list[str]) -> tuple:
    """What routing keeps to move the task on if nobody accepts it in time, as
    store.OFFER's columns: the task, rule and target position, who had it, until when."""
    if not (d.owner_id and d.timeout_s and d.position):
        return None, None, None, offered, None
    return (task.model_dump(mode="json"), d.position[0], d.position[1], offered,
            datetime.now(UTC) + timedelta(seconds=d.timeout_s))


async def _context(session, orgs: set[str], task_ids: list = ()):
    """Which of these tasks are routed already, and these orgs' rule sets and staff
    indexes with everyone's load as of now. Indexes and rule sets are kept between polls
    and built again only when the org's staff stamp or rule set version changed."""
    snap = await store.snapshot(session, orgs, task_ids)
    versions = snap.versions
    staff_stale = {o for o in orgs if o not in _indexes or _indexes[o][0] != versions[o][0]}
    if staff_stale:
        people: dict[str, list[domain.Staff]] = {o: [] for o in staff_stale}
        for row in await store.staff_of(session, staff_stale):
            people[row.org_id].append(_staff(row))
        for o, p in people.items():
            _indexes[o] = (versions[o][0], domain.StaffIndex(p))
    rules_stale = {o for o in orgs if o not in _rule_sets or _rule_sets[o][0] != versions[o][1]}
    if rules_stale:
        got = await store.rules_of(session, rules_stale)
        for o in rules_stale:
            _rule_sets[o] = (versions[o][1], domain.RuleSet.of(got[o][1], got[o][0])
                             if o in got else DEFAULT_RULE_SET)
    indexes = {o: _indexes[o][1] for o in orgs}
    for org, uid, active, last in snap.loads:  # loads may have moved since the last poll
        loaded = None if org in staff_stale else indexes[org].load.get(uid)
        if loaded is not None and loaded[:2] != (active, last):
            indexes[org].set_load(uid, active, last)
    return snap.routed, {o: _rule_sets[o][1] for o in orgs}, indexes


async def task_created(batch: list[Envelope[TaskCreated]], uow: UnitOfWork) -> None:
    """Decide where each new task goes (once per task), reserve the owners' capacity
    atomically, and announce each decision with its explanation.

    The batch is decided in memory (each choice counts against its owner at once, so the
    batch stays balanced) and reserved in one statement; an owner whom another replica
    filled meanwhile gets nothing, and only their tasks are decided again, one at a time."""
    s = uow.session
    done, rule_sets, indexes = await _context(s, {e.org_id for e in batch},
                                              [e.payload.task_id for e in batch])
    now = datetime.now(UTC).timestamp()
    todo: list[tuple[Envelope[TaskCreated], domain.RuleSet, domain.Decision]] = []
    wanted: Counter[str] = Counter()
    for e in batch:
        if e.payload.task_id in done:
            continue
        done.add(e.payload.task_id)
        rules = rule_sets[e.org_id]
        d = domain.decide(e.payload, rules, indexes[e.org_id])
        if d.owner_id:
            index = indexes[e.org_id]
            index.set_load(d.owner_id, index.by_id[d.owner_id].active_tasks + 1, now)
            wanted[d.owner_id] += 1
        todo.append((e, rules, d))
    reserved = await store.reserve_many(s, wanted)
    short = [u for u in wanted if u not in reserved]
    if short:
        log.info("routing_reservation_conflict", users=len(short))
        truth = await store.counts(s, short)
        for index in indexes.values():
            for u in short:
                if u in index.by_id:
                    index.set_load(u, truth.get(u, index.by_id[u].capacity))
    decided: list[tuple] = []
    for e, rules, d in todo:
        task = e.payload
        if d.owner_id in short:
            d = await _choose(s, task, rules, indexes[e.org_id])
        decided.append((task.task_id, e.org_id, d.queue, d.owner_id, d.rule_id, rules.version,
                        d.reason, d.candidates,
                        *_offer(task, d, [d.owner_id] if d.owner_id else [])))
        await uow.emit(TaskRouted(task_id=task.task_id, queue=d.queue, owner_id=d.owner_id,
                                  rule_id=d.rule_id, rule_version=rules.version, reason=d.reason,
                                  candidates=d.candidates), cause=e, key=str(task.task_id))
    await store.record(s, decided)


async def expire_offers(ctx) -> None:
    """Timer: a task offered with a timeout that nobody accepted or started moves on to
    the rule's next target (then the next rules, then the default queue)."""
    async def sweep() -> None:
        async with ctx.unit_of_work() as uow:
            rows = await store.expired_offers(uow.session)
            if rows:
                _, rule_sets, indexes = await _context(uow.session, {r.org_id for r in rows})
            for row in rows:
                await _reoffer(uow, row, rule_sets, indexes)

    # a bad moment for the database: try at the next tick
    await timers.every(getattr(ctx.settings, "offer_sweep_s", 1.0), sweep, name="offer_sweep",
                       first="after")


async def _reoffer(uow: UnitOfWork, row, rule_sets, indexes) -> None:
    task = TaskCreated.model_validate(row.task)
    rules = rule_sets[row.org_id]
    await store.adjust(uow.session, row.owner_id, -1)
    index = indexes[row.org_id]
    if row.owner_id in index.by_id:
        index.set_load(row.owner_id, index.by_id[row.owner_id].active_tasks - 1)
    d = await _choose(uow.session, task, rules, indexes[row.org_id],
                      after=(row.rule_pos, row.target_pos), exclude=frozenset(row.offered))
    offered = [*row.offered, *([d.owner_id] if d.owner_id else [])]
    reason = f"offered to {row.owner_id}, not accepted in time; {d.reason}"
    await store.follow(uow.session, task.task_id, owner_id=d.owner_id, queue=d.queue,
                       rule_id=d.rule_id, rule_version=rules.version, reason=reason,
                       candidates=d.candidates, decided_at=datetime.now(UTC),
                       **dict(zip(store.OFFER, _offer(task, d, offered), strict=True)))
    await uow.emit(TaskRouted(task_id=task.task_id, queue=d.queue, owner_id=d.owner_id,
                              rule_id=d.rule_id, rule_version=rules.version, reason=reason,
                              candidates=d.candidates, reoffer=True),
                   org_id=row.org_id, key=str(task.task_id))


async def task_assigned(batch: list[Envelope[TaskAssigned]], uow: UnitOfWork) -> None:
    """A manual (re)assignment moves the task's weight from one person to another (and
    ends any open offer: a person chose)."""
    for e in batch:
        t = await store.routed(uow.session, e.payload.task_id)
        if t is None or t.owner_id == e.payload.owner_id:
            continue
        if t.active:
            await store.adjust(uow.session, t.owner_id, -1)
            await store.adjust(uow.session, e.payload.owner_id, +1)
        await store.follow(uow.session, e.payload.task_id, owner_id=e.payload.owner_id,
                           offer_expires_at=None, task=None)


async def task_status_changed(batch: list[Envelope[TaskStatusChanged]], uow: UnitOfWork) -> None:
    """Accepting or starting a task ends its offer; a finished task no longer counts
    against its owner."""
    for e in batch:
        to = e.payload.to_status
        if to in NOT_YET_ACCEPTED:
            continue
        t = await store.routed(uow.session, e.payload.task_id)
        if t is None:
            continue
        if t.offer_expires_at is not None:
            await store.follow(uow.session, e.payload.task_id, offer_expires_at=None, task=None)
        if to in vocabulary.FINISHED and t.active:
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
        check_rules(rules)  # the gateway validated; a bad set never replaces a good one
        await store.set_rules(uow.session, e.org_id, e.payload.version, rules)


TASK_HANDLERS = {TaskCreated: task_created, TaskAssigned: task_assigned,
                 TaskStatusChanged: task_status_changed}
DIRECTORY_HANDLERS = {UserUpserted: user_upserted, RoutingRulesChanged: rules_changed}
