"""SLA monitor's handlers."""
from __future__ import annotations

from common.events import Envelope
from common.events.generated import TaskCreated
from common.uow import UnitOfWork
from services.sla_monitor import store


async def task_created(event: Envelope[TaskCreated], uow: UnitOfWork) -> None:
    """Start a new task's SLA clock."""
    p = event.payload
    await store.start_clock(uow.session, task_id=p.task_id, org_id=event.org_id,
                            task_type=p.task_type, due_at=p.due_at)


HANDLERS = {TaskCreated: task_created}
