"""SLA monitor's handlers."""
from __future__ import annotations

from common.events import Envelope
from common.events.generated import TaskCreated
from common.uow import UnitOfWork
from services.sla_monitor import store


async def task_created(batch: list[Envelope[TaskCreated]], uow: UnitOfWork) -> None:
    """Start each new task's SLA clock."""
    await store.start_clocks(uow.session, [
        {"task_id": e.payload.task_id, "org_id": e.org_id, "task_type": e.payload.task_type,
         "due_at": e.payload.due_at} for e in batch])


HANDLERS = {TaskCreated: task_created}
