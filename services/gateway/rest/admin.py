"""REST for managers: routing's rules (saved as a version, announced as an event) and the
audit trail."""
from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from services.gateway.admin.routing_rules import RulesIn, RulesOut, current_rules, replace_rules
from services.gateway.audit.service import AuditOut, audit_search
from services.gateway.deps import Manager, Session, ctx

r = APIRouter()


@r.get("/routing/rules", response_model=RulesOut, tags=["routing"],
       summary="The org's routing rules, in priority order (managers)")
async def get_rules(user: Manager, s: Session) -> RulesOut:
    return await current_rules(s, user)


@r.put("/routing/rules", response_model=RulesOut, tags=["routing"],
       summary="Replace the org's routing rules: validated, versioned, live at once")
async def put_rules(body: RulesIn, user: Manager, request: Request) -> RulesOut:
    return await replace_rules(ctx(request), user, body.rules)


@r.get("/audit", response_model=list[AuditOut], tags=["audit"],
       summary="The audit trail (managers): search; format=csv to export")
async def audit(user: Manager, s: Session, patient_id: str | None = None,
                payer_id: str | None = None, task_type: str | None = None,
                actor_id: str | None = None, task_id: uuid.UUID | None = None,
                since: datetime | None = None, until: datetime | None = None,
                limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
                format: Literal["json", "csv"] = "json"):
    out = await audit_search(s, user, patient_id=patient_id, payer_id=payer_id,
                             task_type=task_type, actor_id=actor_id, task_id=task_id,
                             since=since, until=until, limit=limit)
    if format == "json":
        return out
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["at", "actor_id", "action", "task_id", "patient_id", "payer_id",
                "task_type", "detail"])
    for a in out:
        w.writerow([a.at.isoformat(), a.actor_id, a.action, a.task_id or "",
                    a.patient_id or "", a.payer_id or "", a.task_type or "",
                    json.dumps(a.detail, sort_keys=True)])
    return StreamingResponse(iter([buf.getvalue()]), media_type="text/csv",
                             headers={"Content-Disposition": "attachment; filename=audit.csv"})
