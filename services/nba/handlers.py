"""nba's handlers: keep its view of tasks, record decisions on suggestions, and learn
from outcomes. Idempotent per event through the consumer's processed-event ledger (each
runs in the same transaction as that ledger row)."""
from __future__ import annotations

from common import logs, vocabulary
from common.events import Envelope
from common.events.generated import (
    PayerInteractionLogged,
    SuggestionDecided,
    TaskAssigned,
    TaskCreated,
    TaskNoteAdded,
    TaskStatusChanged,
)
from common.nba_actions import BAD_OUTCOMES, GOOD_OUTCOMES
from common.uow import UnitOfWork
from services.nba import domain, metrics, store, suggest

log = logs.get(__name__)
NO_LEARNING = frozenset({"cancelled", "entered-in-error"})


def outcome_of(to_status: str, business_status: str | None) -> str | None:
    """good, bad or None (nothing to learn): businessStatus decides, a failed task is bad."""
    bs = (business_status or "").strip().lower()
    if to_status in NO_LEARNING:
        return None
    if bs in GOOD_OUTCOMES:
        return "good"
    if bs in BAD_OUTCOMES or to_status == "failed":
        return "bad"
    return None


async def task_created(batch: list[Envelope[TaskCreated]], uow: UnitOfWork) -> None:
    """Start knowing new tasks (the precompute suggests for them)."""
    await store.add_tasks(uow.session, [
        {"task_id": e.payload.task_id, "org_id": e.org_id, "task_type": e.payload.task_type,
         "payer_id": e.payload.payer_id, "payer_name": e.payload.payer_name,
         "payer_class": e.payload.payer_class, "amount": e.payload.amount,
         "reason_codes": list(e.payload.reason_codes), "due_at": e.payload.due_at,
         "status": "requested", "created_at": e.occurred_at} for e in batch])


async def task_assigned(batch: list[Envelope[TaskAssigned]], uow: UnitOfWork) -> None:
    """Follow owners: they decide whose queue's first 100 a task is in."""
    known = await store.tasks_by_id(uow.session, {e.payload.task_id for e in batch}, lock=True)
    changes = {}
    for e in batch:
        r = known.get(e.payload.task_id)
        if r is not None and r.org_id == e.org_id:
            changes[r.task_id] = {"owner_id": e.payload.owner_id}
    await store.update_tasks(uow.session, changes)


async def task_noted(batch: list[Envelope[TaskNoteAdded]], uow: UnitOfWork) -> None:
    """A note is a change on the task: its suggestion is recomputed."""
    known = await store.tasks_by_id(uow.session, {e.payload.task_id for e in batch}, lock=True)
    await store.update_tasks(uow.session, {r.task_id: {} for r in known.values()
                                           if any(e.org_id == r.org_id for e in batch)})


async def task_status_changed(batch: list[Envelope[TaskStatusChanged]], uow: UnitOfWork) -> None:
    """Follow status and owner; when a task ends well or badly, credit the action a person
    chose for it at both levels (payer and code; payer class and reason category)."""
    known = await store.tasks_by_id(uow.session, {e.payload.task_id for e in batch}, lock=True)
    state = {tid: {"active": r.active, "outcome": r.outcome} for tid, r in known.items()}
    changes: dict = {}
    for e in batch:
        p = e.payload
        r = known.get(p.task_id)
        if r is None or r.org_id != e.org_id:
            continue
        ch = changes.setdefault(r.task_id, {})
        ch["status"] = p.to_status
        if p.owner_id:
            ch["owner_id"] = p.owner_id
        if p.to_status in vocabulary.FINISHED:
            ch["active"] = state[r.task_id]["active"] = False
        result = outcome_of(p.to_status, p.business_status)
        if result and state[r.task_id]["outcome"] is None:
            ch["outcome"] = state[r.task_id]["outcome"] = result
            if r.pending_action:
                ctx = domain.context_of(suggest.facts_of(r))
                if ctx is not None:
                    await store.add_outcome(uow.session, r.org_id,
                                            [(store.PAYER, ctx.payer_scope),
                                             (store.CLASS, ctx.class_scope)],
                                            r.pending_action, result == "good")
                    metrics.OUTCOMES.labels(r.task_type, r.pending_action, result).inc()
    await store.update_tasks(uow.session, changes)


async def suggestion_decided(batch: list[Envelope[SuggestionDecided]], uow: UnitOfWork) -> None:
    """Log the decision on the suggestion (the first one counts), count it for the
    acceptance rate, and remember the chosen action: the task's outcome is credited to it."""
    known = await store.tasks_by_id(uow.session, {e.payload.task_id for e in batch}, lock=True)
    changes: dict = {}
    for e in batch:
        p = e.payload
        r = known.get(p.task_id)
        if r is None or r.org_id != e.org_id:
            log.warning("decision_for_unknown_task", task_id=str(p.task_id))
            continue
        row = await store.decide(uow.session, p.suggestion_id, decision=p.decision,
                                 action=p.action, by=p.actor_id, at=e.occurred_at)
        if row is None or row.task_id != p.task_id:
            log.info("decision_ignored", suggestion_id=str(p.suggestion_id),
                     why="unknown or decided before")
            continue
        await store.count_decision(uow.session, org_id=r.org_id, task_type=r.task_type,
                                   action=row.action, decision=p.decision)
        metrics.DECISIONS.labels(r.task_type, row.action, p.decision).inc()
        ch = changes.setdefault(r.task_id, {})
        if p.action and p.decision in ("accepted", "modified"):
            tried = list(ch.get("tried", r.tried or []))
            if p.action not in tried:
                tried.append(p.action)
            ch["tried"] = tried
            ch["pending_action"] = p.action
    await store.update_tasks(uow.session, changes)


async def interaction_logged(batch: list[Envelope[PayerInteractionLogged]], uow: UnitOfWork) -> None:
    """Learn from payer interactions: a payer's advice (the next step its representative
    gave) raises that action for the same payer and code; a completed call to the payer is
    'call payer' tried on the task. Either way the task's suggestion is recomputed."""
    known = await store.tasks_by_id(uow.session, {e.payload.task_id for e in batch
                                                  if e.payload.task_id}, lock=True)
    changes: dict = {}
    for e in batch:
        p = e.payload
        r = known.get(p.task_id) if p.task_id else None
        if r is None or r.org_id != e.org_id:
            continue
        action = domain.advised_action(p.next_step)
        ctx = domain.context_of(suggest.facts_of(r))
        if action and ctx is not None and await store.record_advice(
                uow.session, interaction_id=p.interaction_id, org_id=r.org_id,
                scope=ctx.payer_scope, action=action, task_id=r.task_id, at=e.occurred_at):
            changes.setdefault(r.task_id, {})
            metrics.ADVICE.labels(r.task_type, action).inc()
        if p.channel == "voice" and p.direction == "outbound" and p.status == "completed":
            tried = list(changes.get(r.task_id, {}).get("tried", r.tried or []))
            if "call_payer" not in tried:
                changes.setdefault(r.task_id, {})["tried"] = [*tried, "call_payer"]
    await store.update_tasks(uow.session, changes)


HANDLERS = {TaskCreated: task_created, TaskAssigned: task_assigned,
            TaskStatusChanged: task_status_changed, TaskNoteAdded: task_noted,
            SuggestionDecided: suggestion_decided}
INTERACTION_HANDLERS = {PayerInteractionLogged: interaction_logged}
