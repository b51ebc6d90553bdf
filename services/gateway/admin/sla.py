"""SLA policies and maintenance windows, edited by managers: validated (the contract is
``common.sla_policy``), versioned, announced as SlaPolicyChanged and live in the SLA
monitor at once, without a restart."""
from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from common.events.generated import SlaPolicyChanged
from common.runtime import Context
from common.sla_policy import SlaPolicyError, check
from services.gateway.admin import store
from services.gateway.audit import store as audit_store
from services.gateway.errors import Invalid


class SlaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policies: list[dict] = Field([], max_length=200, description=(
        '{"id", "task_type": "Denial" or "*", "payer_id"?, "priority"?, "deadline_hours": 720, '
        '"calendar": {"timezone", "start": "09:00", "end": "17:00", "exclude_weekends", "holidays": []}, '
        '"pause_on_hold": true, "due_soon_hours": 48, "warn_before_hours"?, "level2_after_hours": 24}'))
    maintenance_windows: list[dict] = Field([], max_length=200, description=(
        '{"id", "starts_at", "ends_at", "payer_id"?}: alerts suppressed, escalations still recorded'))


class SlaOut(BaseModel):
    version: int
    policies: list[dict]
    maintenance_windows: list[dict]
    defaults: bool


async def current(session: AsyncSession, org_id: str) -> SlaOut:
    """The org's SLA document as managers see it (version 0: none saved, the defaults apply)."""
    row = await store.latest(session, store.sla_policy_set, org_id)
    if row is None:
        return SlaOut(version=0, policies=[], maintenance_windows=[], defaults=True)
    return SlaOut(version=row.version, policies=row.policies,
                  maintenance_windows=row.maintenance_windows, defaults=False)


async def replace(ctx: Context, user, body: dict) -> SlaOut:
    """Validate, version, store, audit and announce a new SLA document; Invalid names the
    bad item and field."""
    try:
        doc = check(body)
    except SlaPolicyError as exc:
        raise Invalid(str(exc)) from None
    policies = [p.model_dump(mode="json", exclude_defaults=True) | {"id": p.id} for p in doc.policies]
    windows = [w.model_dump(mode="json") for w in doc.maintenance_windows]
    async with ctx.unit_of_work() as uow:
        s = uow.session
        version = await store.add_version(s, store.sla_policy_set, key={"org_id": user.org_id},
                                          policies=policies, maintenance_windows=windows,
                                          changed_by=user.id)
        await uow.emit(SlaPolicyChanged(version=version, policies_json=json.dumps(policies),
                                        maintenance_json=json.dumps(windows), changed_by=user.id),
                       org_id=user.org_id, key=user.org_id)
        await audit_store.audit(s, org_id=user.org_id, actor_id=user.id, action="sla_policies_changed",
                                detail={"version": version, "policies": len(policies),
                                        "maintenance_windows": len(windows)})
    return SlaOut(version=version, policies=policies, maintenance_windows=windows, defaults=False)
