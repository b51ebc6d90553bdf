"""Gateway handlers for task events from the bus."""
from __future__ import annotations

from common import logs
from common.events import Envelope
from common.events.generated import TaskCreated, TaskRouted
from common.uow import UnitOfWork
from services.gateway import store

log = logs.get(__name__)


async def task_created(event: Envelope[TaskCreated], uow: UnitOfWork) -> None:
    """Put a new task in the queue at once, unassigned and 'requested'."""
    p = event.payload
    fresh = await store.insert_task(uow.session, {
        **p.model_dump(exclude={"task_id"}),
        "id": p.task_id,
        "org_id": event.org_id,
        "status": "requested",
        "priority_rank": store.PRIORITY_RANK.get(p.priority, 9),
        "created_at": event.occurred_at,
    })
    if fresh:
        await store.add_history(uow.session, task_id=p.task_id, org_id=event.org_id,
                                at=event.occurred_at, actor=event.producer, action="created",
                                to_status="requested", event_id=event.event_id,
                                detail={"source_kind": p.source_kind, "source_id": p.source_id})


async def task_routed(event: Envelope[TaskRouted], uow: UnitOfWork) -> None:
    """Show routing's decision on the task: its queue, and its owner when one was chosen."""
    p = event.payload
    found = await store.set_route(uow.session, task_id=p.task_id, org_id=event.org_id,
                                  queue=p.queue, owner_id=p.owner_id, reason=p.reason)
    if not found:
        # Same topic, same key: TaskCreated is always read first, so this is another org's id.
        raise LookupError(f"task {p.task_id} of org {event.org_id} is not in the task store")
    await store.add_history(uow.session, task_id=p.task_id, org_id=event.org_id,
                            at=event.occurred_at, actor=event.producer, action="routed",
                            event_id=event.event_id,
                            detail={"queue": p.queue, "owner_id": p.owner_id,
                                    "rule_id": p.rule_id, "reason": p.reason})


HANDLERS = {TaskCreated: task_created, TaskRouted: task_routed}
