"""Intake's internal HTTP API: upstream modules that cannot speak Kafka POST their events
here; the stack asks which orgs and policies intake knows. Every route requires the
service credential (``common.service_auth``); policies change only through the gateway's
admin API (TaskPolicyChanged)."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal, Union

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field, create_model

from common import events, limits
from common.consumer import handle_now
from common.service_auth import require_service
from services.intake import domain, store
from services.intake.handlers import DEFAULTS, HANDLERS


class IngestResult(BaseModel):
    event_id: uuid.UUID
    event_type: str
    duplicate: bool = Field(description="True when this event or its source was already received")
    task_id: uuid.UUID | None = Field(None, description="The task this event opened, when new")


def _ingest_model(model: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        f"{model.__name__}In",
        __config__=ConfigDict(extra="forbid"),
        event_type=(Literal[model.__name__], ...),
        org_id=(limits.text(64, min_length=1), ...),
        event_id=(uuid.UUID | None,
                  Field(None, description="Your id for this event; a retry with it is a no-op")),
        correlation_id=(uuid.UUID | None, None),
        occurred_at=(limits.Timestamp | None, None),
        payload=(model, ...),
    )


_MODELS = [_ingest_model(m) for m in HANDLERS]
IngestRequest = Annotated[Union[tuple(_MODELS)], Field(discriminator="event_type")]  # noqa: UP007


OrgId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[^\x00]+$")]


def router() -> APIRouter:
    """Intake: source events in, tasks out."""
    r = APIRouter(prefix="/api/v1", tags=["intake"], dependencies=[Depends(require_service)])

    @r.post("/events", status_code=status.HTTP_202_ACCEPTED, response_model=IngestResult,
            summary="Submit one upstream source event (DenialPosted, ...)")
    async def post_event(body: IngestRequest, request: Request) -> IngestResult:
        ctx = request.app.state.ctx
        extra = {k: v for k in ("event_id", "correlation_id", "occurred_at")
                 if (v := getattr(body, k)) is not None}
        env = events.envelope(body.payload, org_id=body.org_id, producer="intake-api", **extra)
        try:
            fresh, task_id = await handle_now(
                service="intake", sessions=ctx.sessions, outbox=ctx.outbox,
                processed=ctx.processed, env=env, handler=HANDLERS[type(body.payload)])
        except domain.Invalid as exc:
            raise HTTPException(422, str(exc)) from None
        return IngestResult(event_id=env.event_id, event_type=env.event_type,
                            duplicate=not fresh or task_id is None, task_id=task_id)

    @r.get("/orgs/{org_id}", summary="Whether intake knows an org (it accepts its events)")
    async def org(org_id: OrgId, request: Request) -> dict:
        async with request.app.state.ctx.sessions() as s:
            if not await store.known_orgs(s, {org_id}):
                raise HTTPException(404, f"unknown org '{org_id}'")
        return {"org_id": org_id, "known": True}

    @r.get("/orgs/{org_id}/policies",
           summary="The task policies intake applies for an org (its own, else the defaults); "
                   "managers change them in the gateway")
    async def policies(org_id: OrgId, request: Request) -> dict:
        async with request.app.state.ctx.sessions() as s:
            own = await store.own_policies(s, org_id)  # one read: policy and version agree
        return {t: {**DEFAULTS[t], **own.get(t, ({}, 0))[0], "own": t in own,
                    "version": own.get(t, ({}, 0))[1]} for t in DEFAULTS}

    return r
