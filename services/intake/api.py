"""Intake's HTTP API: upstream modules that cannot speak Kafka POST their events here."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal, Union

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field, create_model

from common import events, limits
from common.consumer import handle_now
from services.intake import domain, store
from services.intake.handlers import DEFAULTS, HANDLERS


class PolicyIn(BaseModel):
    """An org's policy for one task type: SLA days, priority rules tried in order
    ({"when": {"amount_gt": 5000}, "priority": "High"}; a list under "when" means any),
    the priority when no rule matches, and optionally when to open a task at all."""
    model_config = ConfigDict(extra="forbid")
    sla_days: int = Field(ge=0, le=365)
    rules: list[dict] = Field([], max_length=100)
    default_priority: Literal["Urgent", "High", "Routine", "Low"] = "Routine"
    open_when: dict | list | None = None
    deadline_margin_days: int = Field(5, ge=0, le=60)


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


def router() -> APIRouter:
    """Intake: source events in, tasks out."""
    r = APIRouter(prefix="/api/v1", tags=["intake"])

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
    async def org(org_id: str, request: Request) -> dict:
        async with request.app.state.ctx.sessions() as s:
            if not await store.known_orgs(s, {org_id}):
                raise HTTPException(404, f"unknown org '{org_id}'")
        return {"org_id": org_id, "known": True}

    @r.get("/orgs/{org_id}/policies", summary="An org's task policies (its own, else defaults)")
    async def policies(org_id: str, request: Request) -> dict:
        async with request.app.state.ctx.sessions() as s:
            own = (await store.policies_for(s, {org_id}))[org_id]
        return {t: {**DEFAULTS[t], **own.get(t, {}), "own": t in own} for t in DEFAULTS}

    @r.put("/orgs/{org_id}/policies/{task_type}",
           summary="Change an org's priorities and deadlines for a task type (no deploy)")
    async def put_policy(org_id: str, task_type: str, body: PolicyIn, request: Request) -> dict:
        if task_type not in domain.TASK_TYPES:
            raise HTTPException(404, f"task type '{task_type}' is not one of "
                                     f"{', '.join(domain.TASK_TYPES)}")
        try:
            domain.check_rules(body.rules)
        except domain.Invalid as exc:
            raise HTTPException(422, str(exc)) from None
        async with request.app.state.ctx.sessions() as s, s.begin():
            if not await store.known_orgs(s, {org_id}):
                raise HTTPException(404, f"unknown org '{org_id}'")
            version = await store.set_policy(s, org_id, task_type, body.model_dump())
        return {"org_id": org_id, "task_type": task_type, "version": version}

    return r
