"""REST: the queue (filters, keyset pages, board counts) and saved views."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.gateway.deps import CurrentUser, Session
from services.gateway.queue import service
from services.gateway.queue.models import ColumnCounts, QueueFilter, QueuePage, QueueParams, ViewIn, ViewOut

r = APIRouter()


@r.get("/queue", response_model=QueuePage, tags=["queue"],
       summary="The queue: filter, sort, page (keyset); a view fills in filters")
async def queue(user: CurrentUser, s: Session,
                p: Annotated[QueueParams, Query()]) -> QueuePage:
    return await service.queue_page(s, user, p)


@r.get("/queue/counts", response_model=ColumnCounts, tags=["queue"],
       summary="Tasks per board column for the same filters (count badges)")
async def counts(user: CurrentUser, s: Session, f: Annotated[QueueFilter, Query()]) -> ColumnCounts:
    f = await service.resolve_view(s, user, f)
    await service.check_owner(s, user, f)
    return ColumnCounts(columns=await service.column_counts(s, user, f))


@r.get("/views", response_model=list[ViewOut], tags=["queue"],
       summary="Saved views: the built-in ones, the org's and yours")
async def list_views(user: CurrentUser, s: Session) -> list[ViewOut]:
    return await service.views_for(s, user)


@r.post("/views", response_model=ViewOut, status_code=201, tags=["queue"])
async def save_view(body: ViewIn, user: CurrentUser, s: Session) -> ViewOut:
    return await service.store_view(s, user, body)


@r.delete("/views/{view_id}", status_code=204, tags=["queue"])
async def delete_view(view_id: uuid.UUID, user: CurrentUser, s: Session) -> Response:
    await service.delete_view(s, user, view_id)
    return Response(status_code=204)
