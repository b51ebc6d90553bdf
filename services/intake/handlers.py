"""Intake's handlers: each source event becomes exactly one task."""
from __future__ import annotations

import uuid

from common.events import Envelope
from common.events.generated import DenialPosted
from common.uow import UnitOfWork

from services.intake import domain, store


async def denial_posted(batch: list[Envelope[DenialPosted]], uow: UnitOfWork
                        ) -> list[uuid.UUID | None]:
    """Open a Denial task for each posted denial; a replayed denial changes nothing.
    Returns each event's new task id, or None for a replay."""
    tasks = [domain.denial_task(e.org_id, e.payload, received_at=e.occurred_at) for e in batch]
    fresh = await store.record_sources(uow.session, [
        {"org_id": e.org_id, "source_kind": "DenialPosted", "source_id": e.payload.source_id,
         "event_id": e.event_id, "task_id": t.task_id} for e, t in zip(batch, tasks, strict=False)])
    out: list[uuid.UUID | None] = []
    for e, t in zip(batch, tasks, strict=False):
        key = (e.org_id, "DenialPosted", e.payload.source_id)
        if key in fresh:
            fresh.discard(key)
            await uow.emit(t, cause=e, key=str(t.task_id))
            out.append(t.task_id)
        else:
            out.append(None)
    return out


HANDLERS = {DenialPosted: denial_posted}
