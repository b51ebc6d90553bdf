"""REST: calls, texts and e-mails to the task's payer, what came of them, and triage."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from services.gateway.deps import CurrentUser, Session, ctx
from services.gateway.errors import NotFound
from services.gateway.interactions import service, store
from services.gateway.interactions.models import (
    AttachIn,
    CallIn,
    InteractionOut,
    MessageIn,
    OutcomeIn,
    Requested,
    TemplateOut,
)
from services.gateway.tasks import actions
from services.gateway.tasks import store as task_store

r = APIRouter(tags=["payer interactions"])


@r.post("/tasks/{task_id}/calls", response_model=Requested, status_code=202,
        summary="Call the task's payer: your phone rings, then the payer's line")
async def call(task_id: uuid.UUID, body: CallIn, user: CurrentUser, request: Request) -> Requested:
    async with actions.unit_of_work(ctx(request)) as uow:
        iid = await service.request_call(uow, user, task_id, to_number=body.to_number)
    return Requested(id=iid, status="requested")


@r.post("/tasks/{task_id}/messages", response_model=Requested, status_code=202,
        summary="Text or e-mail the task's payer (an SMS needs consent unless a business line)")
async def message(task_id: uuid.UUID, body: MessageIn, user: CurrentUser,
                  request: Request) -> Requested:
    async with actions.unit_of_work(ctx(request)) as uow:
        iid = await service.request_message(uow, user, task_id, body)
    return Requested(id=iid, status="requested")


@r.get("/tasks/{task_id}/interactions", response_model=list[InteractionOut],
       summary="The task's calls, texts and e-mails, newest first")
async def of_task(task_id: uuid.UUID, user: CurrentUser, s: Session) -> list[InteractionOut]:
    if await task_store.get_task(s, user.org_id, task_id) is None:
        raise NotFound(f"task {task_id} not found", what="task")
    return [InteractionOut.model_validate(i) for i in await store.of_task(s, user.org_id, task_id)]


@r.get("/tasks/{task_id}/message-templates", response_model=list[TemplateOut],
       summary="Messages about the task, filled with its data, to edit and send")
async def templates(task_id: uuid.UUID, user: CurrentUser, s: Session) -> list[TemplateOut]:
    row = await task_store.get_task(s, user.org_id, task_id)
    if row is None:
        raise NotFound(f"task {task_id} not found", what="task")
    return [TemplateOut(**t) for t in service.message_templates(row)]


@r.get("/interactions/triage", response_model=list[InteractionOut],
       summary="Inbound calls, texts and e-mails matched to no task, newest first")
async def triage(user: CurrentUser, s: Session) -> list[InteractionOut]:
    return [InteractionOut.model_validate(i) for i in await store.triage(s, user.org_id)]


@r.get("/interactions/{interaction_id}", response_model=InteractionOut, summary="One interaction")
async def one(interaction_id: uuid.UUID, user: CurrentUser, s: Session) -> InteractionOut:
    it = await store.get(s, user.org_id, interaction_id)
    if it is None:
        raise NotFound(f"interaction {interaction_id} not found", what="interaction")
    return InteractionOut.model_validate(it)


@r.post("/interactions/{interaction_id}/outcome", response_model=InteractionOut,
        summary="What came of it: a note on the task, and a follow-up sub-task for a date",
        responses={409: {"description": "in triage, or refused"}})
async def outcome(interaction_id: uuid.UUID, body: OutcomeIn, user: CurrentUser,
                  request: Request) -> InteractionOut:
    async with actions.unit_of_work(ctx(request)) as uow:
        return InteractionOut.model_validate(
            await service.record_outcome(uow, user, interaction_id, body))


@r.post("/interactions/{interaction_id}/attach", response_model=InteractionOut,
        summary="Attach an inbound item (from triage) to a task of your org")
async def attach(interaction_id: uuid.UUID, body: AttachIn, user: CurrentUser,
                 request: Request) -> InteractionOut:
    async with actions.unit_of_work(ctx(request)) as uow:
        await service.attach(uow, user, interaction_id, body.task_id)
        return InteractionOut.model_validate(await store.get(uow.session, user.org_id, interaction_id))
