"""Gateway handlers for task events from the bus."""
from __future__ import annotations

from common.events import Envelope
from common.events.generated import TaskCreated, TaskRouted
from common.uow import UnitOfWork
from services.gateway.tasks import store


async def task_created(batch: list[Envelope[TaskCreated]], uow: UnitOfWork) -> None:
    """Put new tasks in the queue at once, unassigned and 'requested'."""
    await store.create_from_events(uow.session, [{
        "payload": e.payload, "org_id": e.org_id, "at": e.occurred_at, "actor": e.producer,
        "event_id": e.event_id, "detail": {"source_kind": e.payload.source_kind,
                                           "source_id": e.payload.source_id}} for e in batch])


async def task_routed(batch: list[Envelope[TaskRouted]], uow: UnitOfWork) -> None:
    """Show routing's decisions on the tasks: queue, and owner when one was chosen. A
    decision that arrives after the gateway announced an owner it did not know of (an
    escalation, a person's assignment; it names the event it decided on as its cause)
    leaves the owner alone and is recorded as superseded, so the trail still shows it."""
    for chunk in one_per_task(batch):
        found = await store.set_routes(uow.session, [
            {"id": e.payload.task_id, "org_id": e.org_id, "queue": e.payload.queue,
             "owner_id": e.payload.owner_id, "reason": e.payload.reason,
             "reoffer": e.payload.reoffer, "cause": e.causation_id} for e in chunk])
        missing = [e.payload.task_id for e in chunk if e.payload.task_id not in found]
        if missing:
            # Same topic, same key: TaskCreated is always read first, so this is another
            # org's id (or a forged one).
            raise LookupError(f"task {missing[0]} of org {chunk[0].org_id} is not in the task store")
        rows = []
        for e in chunk:
            now = found[e.payload.task_id]
            detail = {"queue": e.payload.queue, "owner_id": e.payload.owner_id,
                      "rule_id": e.payload.rule_id, "rule_version": e.payload.rule_version,
                      "reason": e.payload.reason,
                      "candidates": [c.model_dump() for c in e.payload.candidates]}
            if now.superseded:
                detail.update(kept_owner_id=now.owner_id, reoffer=e.payload.reoffer,
                              decided_on=str(e.causation_id) if e.causation_id else None,
                              why="an owner was set after the task this decision was made for")
            rows.append({"task_id": e.payload.task_id, "org_id": e.org_id, "at": e.occurred_at,
                         "actor": e.producer, "event_id": e.event_id, "detail": detail,
                         "action": "routing_superseded" if now.superseded else "routed"})
        await store.add_history(uow.session, rows)


def one_per_task(batch: list[Envelope]) -> list[list[Envelope]]:
    """Cut a batch into consecutive chunks in which each task appears once, so a bulk
    update applies two events for one task one after the other."""
    chunks: list[list[Envelope]] = [[]]
    seen: set = set()
    for e in batch:
        if e.payload.task_id in seen:
            chunks.append([])
            seen = set()
        chunks[-1].append(e)
        seen.add(e.payload.task_id)
    return chunks


HANDLERS = {TaskCreated: task_created, TaskRouted: task_routed}
