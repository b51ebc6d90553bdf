"""REST: the org's SLA policies and maintenance windows (managers), which the SLA monitor
applies at once."""
from __future__ import annotations

from fastapi import APIRouter, Request

from services.gateway.admin import sla
from services.gateway.deps import Manager, Session, ctx

r = APIRouter(prefix="/sla", tags=["sla"])


@r.get("/policies", response_model=sla.SlaOut,
       summary="The org's SLA policies and maintenance windows")
async def get_policies(user: Manager, s: Session) -> sla.SlaOut:
    return await sla.current(s, user.org_id)


@r.put("/policies", response_model=sla.SlaOut,
       summary="Replace the org's SLA policies and maintenance windows: validated, versioned, "
               "live at once")
async def put_policies(body: sla.SlaIn, user: Manager, request: Request) -> sla.SlaOut:
    return await sla.replace(ctx(request), user, body.model_dump())
