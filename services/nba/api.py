"""nba's internal HTTP API (for the gateway; not public): suggestions for a batch of
tasks, one logged suggestion by id, and the action catalogue. Every route requires the
service credential (``common.service_auth``)."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel

from common.nba_actions import Suggestion, catalogue
from common.service_auth import require_service
from services.nba import store, suggest

OrgId = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[^\x00]+$")]


class Suggestions(BaseModel):
    suggestions: dict[uuid.UUID, Suggestion | None]


class Logged(BaseModel):
    suggestion_id: uuid.UUID
    task_id: uuid.UUID
    org_id: str
    action: str
    task_type: str
    exploring: bool
    decision: str | None
    decided_action: str | None


class Action(BaseModel):
    code: str
    label: str


def router() -> APIRouter:
    """nba: next-best-action suggestions that learn from outcomes (internal API)."""
    r = APIRouter(prefix="/internal/v1", tags=["nba"], dependencies=[Depends(require_service)])

    @r.get("/suggestions", response_model=Suggestions,
           summary="Suggestions for up to 200 tasks of one org: cached, or computed now")
    async def suggestions(request: Request, org_id: OrgId,
                          task_id: Annotated[list[uuid.UUID], Query(max_length=200)]
                          ) -> Suggestions:
        ctx, st = request.app.state.ctx, request.app.state
        got = await suggest.for_tasks(ctx.sessions, ctx.outbox, st.nba_cache, st.nba_policy,
                                      org_id, task_id)
        return Suggestions(suggestions=got)

    @r.get("/suggestions/{suggestion_id}", response_model=Logged,
           summary="One logged suggestion of an org, with its decision if any")
    async def one(suggestion_id: uuid.UUID, request: Request,
                  org_id: OrgId) -> Logged:
        async with request.app.state.ctx.sessions() as s:
            row = (await store.suggestions_by_id(s, [suggestion_id])).get(suggestion_id)
        if row is None or row.org_id != org_id:
            raise HTTPException(404, f"no suggestion {suggestion_id}")
        return Logged.model_validate(row, from_attributes=True)

    @r.get("/actions", response_model=list[Action], summary="The action catalogue")
    async def actions() -> list[Action]:
        return [Action(**a) for a in catalogue()]

    return r
