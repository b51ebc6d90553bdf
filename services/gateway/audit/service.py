"""The audit trail as managers search it."""
from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from services.gateway import auth
from services.gateway.audit import store


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    at: datetime
    actor_id: str
    action: str
    task_id: uuid.UUID | None
    patient_id: str | None
    payer_id: str | None
    task_type: str | None
    detail: dict


async def audit_search(s, user: auth.User, *, limit: int = 500, **filters) -> list[AuditOut]:
    """Audit rows of the user's org, newest first, by patient, payer, type, actor, dates."""
    return [AuditOut.model_validate(r)
            for r in await store.search(s, org_id=user.org_id, limit=limit, **filters)]
