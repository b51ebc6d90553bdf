"""REST: the task record and what staff do to it (status, owner, notes, time, sub-tasks),
and nba's suggestions on it."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response

from services.gateway import domain
from services.gateway.deps import CurrentUser, Session, ctx
from services.gateway.errors import Invalid
from services.gateway.tasks import actions, reads, suggestions
from services.gateway.tasks.models import (
    Assignment,
    Created,
    NoteIn,
    StatusChange,
    SubtaskIn,
    TaskDetail,
    TaskOut,
    TimeIn,
)

IfMatch = Annotated[str | None, Header(
    alias="If-Match", description="the ETag you loaded; required to change status or owner")]


def require_if_match(value: str | None) -> int:
    """The version an If-Match names: 428 without one (no blind overwrites), Invalid for
    something that is not an ETag."""
    if value is None:
        raise HTTPException(428, 'If-Match is required: send the ETag of the task you loaded '
                                 '(so two people never overwrite each other)')
    v = domain.version_from_etag(value)
    if v is None:
        raise Invalid('If-Match: expected an ETag such as W/"3"')
    return v


r = APIRouter()



@r.get("/tasks", response_model=list[TaskOut], tags=["tasks"],
       summary="Several tasks by id (those of your org)")
async def get_tasks(user: CurrentUser, s: Session,
                    id: Annotated[list[uuid.UUID], Query(max_length=200)]) -> list[TaskOut]:
    return await reads.tasks_by_id(s, user, id)


@r.get("/tasks/{task_id}", response_model=TaskDetail, tags=["tasks"],
       summary="One task with history, notes, time and sub-tasks; ETag for edits")
async def get_task(task_id: uuid.UUID, user: CurrentUser, s: Session,
                   response: Response) -> TaskDetail:
    detail = await reads.task_detail(s, user, task_id)
    response.headers["ETag"] = domain.etag(detail.version)
    return detail


@r.post("/tasks/{task_id}/status", response_model=Created, tags=["tasks"],
        summary="Change status (FHIR state machine); 409 lists the allowed next states",
        responses={409: {"description": "transition refused"}, 412: {"description": "stale"},
                   428: {"description": "If-Match missing"}})
async def change_status(task_id: uuid.UUID, body: StatusChange, user: CurrentUser,
                        request: Request, response: Response,
                        match: IfMatch = None) -> Created:
    expected = require_if_match(match)
    async with actions.unit_of_work(ctx(request)) as uow:
        v = await actions.change_status(uow, user, task_id, status=body.status,
                                        business_status=body.business_status,
                                        reason=body.reason, expected_version=expected)
    response.headers["ETag"] = domain.etag(v)
    return Created(id=task_id, version=v)


@r.post("/tasks/{task_id}/suggestion/decision", response_model=suggestions.DecisionOut,
        tags=["suggestions"],
        summary="Accept, modify (with the action taken) or dismiss nba's suggestion",
        responses={404: {"description": "no such task or suggestion"},
                   409: {"description": "decided before"},
                   503: {"description": "nba unavailable"}})
async def decide(task_id: uuid.UUID, body: suggestions.DecisionIn, user: CurrentUser,
                 request: Request) -> suggestions.DecisionOut:
    return await reads.decide_suggestion(ctx(request), user, task_id, body)


@r.get("/suggestions/actions", response_model=list[suggestions.ActionOut],
       tags=["suggestions"], summary="The actions nba may suggest (the 'modify' picker)")
async def suggestion_actions(user: CurrentUser) -> list[suggestions.ActionOut]:
    return suggestions.action_catalogue()


@r.post("/tasks/{task_id}/assignment", response_model=Created, tags=["tasks"],
        summary="Assign, reassign or unassign (owner_id null)")
async def assign(task_id: uuid.UUID, body: Assignment, user: CurrentUser, request: Request,
                 response: Response, match: IfMatch = None) -> Created:
    expected = require_if_match(match)
    async with actions.unit_of_work(ctx(request)) as uow:
        v = await actions.assign(uow, user, task_id, owner_id=body.owner_id,
                                 reason=body.reason, expected_version=expected)
    response.headers["ETag"] = domain.etag(v)
    return Created(id=task_id, version=v)


@r.post("/tasks/{task_id}/notes", response_model=Created, status_code=201, tags=["tasks"])
async def add_note(task_id: uuid.UUID, body: NoteIn, user: CurrentUser,
                   request: Request) -> Created:
    async with actions.unit_of_work(ctx(request)) as uow:
        return Created(id=await actions.add_note(uow, user, task_id, text=body.text))


@r.post("/tasks/{task_id}/time", response_model=Created, status_code=201, tags=["tasks"])
async def log_time(task_id: uuid.UUID, body: TimeIn, user: CurrentUser,
                   request: Request) -> Created:
    async with actions.unit_of_work(ctx(request)) as uow:
        return Created(id=await actions.log_time(
            uow, user, task_id, minutes=body.minutes, action=body.action,
            performed_on=body.performed_on, note=body.note))


@r.post("/tasks/{task_id}/subtasks", response_model=Created, status_code=201, tags=["tasks"])
async def add_subtask(task_id: uuid.UUID, body: SubtaskIn, user: CurrentUser,
                      request: Request) -> Created:
    async with actions.unit_of_work(ctx(request)) as uow:
        return Created(id=await actions.create_subtask(
            uow, user, task_id, title=body.title, task_type=body.task_type,
            priority=body.priority, due_at=body.due_at, owner_id=body.owner_id))
