"""Intake's handlers: each source event becomes exactly one task."""
from __future__ import annotations

import uuid

from common.events import Envelope
from common.events.generated import DenialPosted
from common.uow import UnitOfWork
from services.intake import domain, store


async def denial_posted(event: Envelope[DenialPosted], uow: UnitOfWork) -> uuid.UUID | None:
    """Open a Denial task for a posted denial; a replayed denial changes nothing."""
    task = domain.denial_task(event.org_id, event.payload, received_at=event.occurred_at)
    fresh = await store.record_source(
        uow.session, org_id=event.org_id, source_kind="DenialPosted",
        source_id=event.payload.source_id, event_id=event.event_id, task_id=task.task_id)
    if not fresh:
        return None
    await uow.emit(task, org_id=event.org_id, key=str(task.task_id))
    return task.task_id


HANDLERS = {DenialPosted: denial_posted}
