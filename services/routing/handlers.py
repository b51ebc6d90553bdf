"""Routing's handlers."""
from __future__ import annotations

from common.events import Envelope
from common.events.generated import TaskCreated, TaskRouted
from common.uow import UnitOfWork
from services.routing import domain, store


async def task_created(batch: list[Envelope[TaskCreated]], uow: UnitOfWork) -> None:
    """Decide where each new task goes and announce it (once per task)."""
    decisions = [(e, domain.decide(e.payload)) for e in batch]
    fresh = await store.record_decisions(uow.session, [
        {"task_id": e.payload.task_id, "org_id": e.org_id, "queue": d.queue,
         "owner_id": d.owner_id, "rule_id": d.rule_id, "reason": d.reason}
        for e, d in decisions])
    for e, d in decisions:
        if e.payload.task_id in fresh:
            fresh.discard(e.payload.task_id)
            await uow.emit(TaskRouted(task_id=e.payload.task_id, queue=d.queue,
                                      owner_id=d.owner_id, rule_id=d.rule_id, reason=d.reason),
                           cause=e, key=str(e.payload.task_id))


HANDLERS = {TaskCreated: task_created}
