"""Intake's HTTP API: upstream modules that cannot speak Kafka POST their events here."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, Union

from common import events
from common.consumer import handle_now
from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field, create_model

from services.intake.handlers import HANDLERS


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
        org_id=(str, Field(min_length=1, max_length=64)),
        event_id=(uuid.UUID | None,
                  Field(None, description="Your id for this event; a retry with it is a no-op")),
        correlation_id=(uuid.UUID | None, None),
        occurred_at=(datetime | None, None),
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
        fresh, task_id = await handle_now(
            service="intake", sessions=ctx.sessions, outbox=ctx.outbox, processed=ctx.processed,
            env=env, handler=HANDLERS[type(body.payload)])
        return IngestResult(event_id=env.event_id, event_type=env.event_type,
                            duplicate=not fresh or task_id is None, task_id=task_id)

    return r
