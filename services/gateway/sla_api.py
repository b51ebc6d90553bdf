"""SLA policies and maintenance windows, edited by managers: validated (the contract is
``common.sla_policy``), versioned, announced as SlaPolicyChanged and live in the SLA
monitor at once, without a restart."""
from __future__ import annotations

import json

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from common.events.generated import SlaPolicyChanged
from common.sla_policy import SlaPolicyError, check
from services.gateway import actions, store
from services.gateway.auth import Manager

sla_policy_set = sa.Table(
    "sla_policy_set", store.metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("policies", JSONB, nullable=False),
    sa.Column("maintenance_windows", JSONB, nullable=False, server_default="[]"),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)


async def latest(session: AsyncSession, org_id: str):
    """An org's current SLA policy set, or None (the defaults apply)."""
    return (await session.execute(sa.select(sla_policy_set).where(
        sla_policy_set.c.org_id == org_id).order_by(sla_policy_set.c.version.desc()).limit(1))).first()


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
    row = await latest(session, org_id)
    if row is None:
        return SlaOut(version=0, policies=[], maintenance_windows=[], defaults=True)
    return SlaOut(version=row.version, policies=row.policies,
                  maintenance_windows=row.maintenance_windows, defaults=False)


async def replace(ctx, user, body: dict) -> SlaOut:
    """Validate, version, store, audit and announce a new SLA document; SlaPolicyError
    names the bad item and field."""
    doc = check(body)
    policies = [p.model_dump(mode="json", exclude_defaults=True) | {"id": p.id} for p in doc.policies]
    windows = [w.model_dump(mode="json") for w in doc.maintenance_windows]
    async with actions.unit_of_work(ctx) as uow:
        s = uow.session
        await s.execute(sa.select(sa.func.pg_advisory_xact_lock(
            sa.func.hashtext(f"sla_policy/{user.org_id}"))))  # one version number per save
        now = await latest(s, user.org_id)
        version = (now.version if now else 0) + 1
        await s.execute(sa.insert(sla_policy_set).values(
            org_id=user.org_id, version=version, policies=policies,
            maintenance_windows=windows, changed_by=user.id))
        await uow.emit(SlaPolicyChanged(version=version, policies_json=json.dumps(policies),
                                        maintenance_json=json.dumps(windows), changed_by=user.id),
                       org_id=user.org_id, key=user.org_id)
        await store.audit(s, org_id=user.org_id, actor_id=user.id, action="sla_policies_changed",
                          detail={"version": version, "policies": len(policies),
                                  "maintenance_windows": len(windows)})
    return SlaOut(version=version, policies=policies, maintenance_windows=windows, defaults=False)


def router() -> APIRouter:
    """SLA policies (managers)."""
    r = APIRouter(prefix="/api/v1/sla", tags=["sla"])

    @r.get("/policies", response_model=SlaOut, summary="The org's SLA policies and maintenance windows")
    async def get_policies(user: Manager, request: Request) -> SlaOut:
        async with request.app.state.ctx.sessions() as s:
            return await current(s, user.org_id)

    @r.put("/policies", response_model=SlaOut,
           summary="Replace the org's SLA policies and maintenance windows: validated, versioned, "
                   "live at once")
    async def put_policies(body: SlaIn, user: Manager, request: Request) -> SlaOut:
        try:
            return await replace(request.app.state.ctx, user, body.model_dump())
        except SlaPolicyError as exc:
            raise HTTPException(422, str(exc)) from None

    return r
