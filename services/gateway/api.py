"""The gateway's HTTP API: the queue and the task record."""
from __future__ import annotations

import base64
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict

from services.gateway import store


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    org_id: str
    task_type: str
    status: str
    business_status: str | None
    priority: str
    title: str
    description: str | None
    due_at: datetime
    patient_id: str | None
    patient_name: str | None
    payer_id: str | None
    payer_name: str | None
    payer_class: str | None
    amount: Decimal | None
    reason_codes: list[str]
    source_kind: str
    source_id: str
    source_module: str
    queue: str | None
    owner_id: str | None
    routing_reason: str | None
    version: int
    created_at: datetime
    stored_at: datetime
    updated_at: datetime


class HistoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    detail: dict


class TaskDetail(TaskOut):
    details: dict
    cpt_codes: list[str]
    icd_codes: list[str]
    history: list[HistoryOut]


class QueuePage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None


def encode_cursor(due_at: datetime, task_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{due_at.isoformat()}|{task_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        due, tid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(due), uuid.UUID(tid)
    except Exception:
        raise HTTPException(422, detail="cursor: not a cursor this API returned") from None


async def session(request: Request):
    async with request.app.state.ctx.sessions() as s:
        yield s


Session = Annotated[object, Depends(session)]
OrgId = Annotated[str, Query(min_length=1, max_length=64, description="The caller's org")]


def router() -> APIRouter:
    """Gateway: the unified work queue and the task record."""
    r = APIRouter(prefix="/api/v1", tags=["queue"])

    @r.get("/queue", response_model=QueuePage, summary="Tasks in the queue, earliest deadline first")
    async def queue(s: Session, org_id: OrgId,
                    queue: str | None = None,
                    status: Annotated[list[str] | None, Query()] = None,
                    task_type: str | None = None,
                    owner_id: str | None = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50,
                    cursor: str | None = None) -> QueuePage:
        q = store.queue_query(org_id=org_id, queue=queue, status=status, task_type=task_type,
                              owner_id=owner_id, limit=limit + 1,
                              after=decode_cursor(cursor) if cursor else None)
        rows = (await s.execute(q)).all()
        items = [TaskOut.model_validate(r) for r in rows[:limit]]
        nxt = encode_cursor(items[-1].due_at, items[-1].id) if len(rows) > limit else None
        return QueuePage(items=items, next_cursor=nxt)

    @r.get("/tasks", response_model=list[TaskOut], summary="Several tasks by id (those visible)")
    async def get_tasks(s: Session, org_id: OrgId,
                        id: Annotated[list[uuid.UUID], Query(max_length=200)]) -> list[TaskOut]:
        rows = (await s.execute(store.tasks_by_id(org_id, id))).all()
        return [TaskOut.model_validate(r) for r in rows]

    @r.get("/tasks/{task_id}", response_model=TaskDetail, summary="One task with its history")
    async def get_task(s: Session, task_id: uuid.UUID, org_id: OrgId) -> TaskDetail:
        row = await store.get_task(s, org_id, task_id)
        if row is None:
            raise HTTPException(404, detail=f"task {task_id} not found")
        history = await store.history_of(s, org_id, task_id)
        return TaskDetail.model_validate(
            {**row._mapping, "history": [HistoryOut.model_validate(h) for h in history]})

    return r
