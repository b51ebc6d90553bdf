"""Routing's handlers."""
from __future__ import annotations

from common.events import Envelope
from common.events.generated import TaskCreated, TaskRouted
from common.uow import UnitOfWork
from services.routing import domain, store


async def task_created(event: Envelope[TaskCreated], uow: UnitOfWork) -> None:
    """Decide where a new task goes and announce it."""
    d = domain.decide(event.payload)
    task_id = event.payload.task_id
    if await store.record_decision(uow.session, task_id=task_id, org_id=event.org_id,
                                   queue=d.queue, owner_id=d.owner_id, rule_id=d.rule_id,
                                   reason=d.reason):
        await uow.emit(TaskRouted(task_id=task_id, queue=d.queue, owner_id=d.owner_id,
                                  rule_id=d.rule_id, reason=d.reason),
                       org_id=event.org_id, key=str(task_id))


HANDLERS = {TaskCreated: task_created}
