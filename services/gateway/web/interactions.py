"""Payer contact on the task page (call, text, e-mail, the outcome prompt, the live
timeline) and the triage page, where inbound items that matched no task wait for a person
to attach them."""
from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError

from services.gateway import auth
from services.gateway.deps import Session
from services.gateway.directory import store as directory_store
from services.gateway.errors import GatewayError, Invalid, NotFound
from services.gateway.interactions import service, store
from services.gateway.interactions.models import CallIn, MessageIn, OutcomeIn
from services.gateway.tasks import actions
from services.gateway.tasks import store as task_store
from services.gateway.web.refusals import TASK_GONE, status, task_gone, why
from services.gateway.web.session import PageError, PageUser, render

router = APIRouter()
Text = Annotated[str, Form()]
# States after which nothing more happens to an interaction (the timeline stops polling).
FINAL = {"completed", "busy", "no-answer", "failed", "canceled", "refused", "delivered",
         "undelivered", "received", "sent"}
STATUS_WORDS = {
    "requested": "Asked for", "pending": "Getting ready", "queued": "Calling…",
    "initiated": "Ringing your phone", "ringing": "Ringing", "in-progress": "On the call",
    "completed": "Ended", "busy": "Line busy", "no-answer": "No answer", "failed": "Failed",
    "canceled": "Cancelled", "refused": "Not sent", "sent": "Sent", "delivered": "Delivered",
    "undelivered": "Not delivered", "received": "Received"}


def timeline(rows) -> list[dict]:
    """The interactions as the task page shows them, newest first."""
    out = []
    for r in rows:
        d = r._asdict()
        d["label"] = STATUS_WORDS.get(r.status, r.status.replace("-", " ").capitalize())
        d["final"] = r.status in FINAL
        d["needs_outcome"] = (r.channel == "voice" and r.status == "completed"
                              and r.outcome_at is None and r.task_id is not None)
        if r.duration_s is not None:
            m, s = divmod(r.duration_s, 60)
            d["duration"] = f"{m} min {s} s" if m else f"{s} s"
        out.append(d)
    return out


async def panel(request: Request, s, user: auth.User, task_id: uuid.UUID, *,
                flash: tuple[str, str] | None = None, status_code: int = 200):
    """The task page's payer-contact panel alone (polled while something is under way)."""
    row = await task_store.get_task(s, user.org_id, task_id)
    if row is None:
        raise PageError(404, TASK_GONE)
    names = {u.id: u.name for u in await directory_store.users_of(s, user.org_id)}
    return render(request, "partials/interactions.html", status_code=status_code,
                  t=row, items=timeline(await store.of_task(s, user.org_id, task_id)),
                  templates=service.message_templates(row), names=names, contact_flash=flash)


@router.get("/tasks/{task_id}/interactions")
async def task_interactions(task_id: uuid.UUID, request: Request, user: PageUser, s: Session):
    return await panel(request, s, user, task_id)


async def _do(request: Request, s, user: auth.User, task_id: uuid.UUID, done: str, build, work):
    try:
        body = build()
        async with actions.unit_of_work(request.app.state.ctx) as uow:
            await work(uow, body)
    except (ValidationError, ValueError, GatewayError) as exc:
        if task_gone(exc):
            raise PageError(404, TASK_GONE) from None
        return await panel(request, s, user, task_id, status_code=status(exc),
                           flash=("error", f"Not done: {why(exc)}"))
    return await panel(request, s, user, task_id, flash=("ok", done))


@router.post("/tasks/{task_id}/call")
async def call(task_id: uuid.UUID, request: Request, user: PageUser, s: Session,
               to_number: Text = ""):
    async def work(uow, body):
        await service.request_call(uow, user, task_id, to_number=body.to_number)
    return await _do(request, s, user, task_id,
                     "Calling: your phone rings first, then the payer's line.",
                     lambda: CallIn(to_number=to_number.strip() or None), work)


@router.post("/tasks/{task_id}/message")
async def message(task_id: uuid.UUID, request: Request, user: PageUser, s: Session,
                  channel: Text = "", body: Text = "", subject: Text = "", to_address: Text = ""):
    async def work(uow, m):
        await service.request_message(uow, user, task_id, m)
    word = "E-mail" if channel == "email" else "Text"
    return await _do(request, s, user, task_id, f"{word} on its way.", lambda: MessageIn(
        channel=channel, body=body.strip(), subject=(subject.strip() or None) if channel == "email" else None,
        to_address=to_address.strip() or None), work)


@router.post("/interactions/{interaction_id}/outcome")
async def outcome(interaction_id: uuid.UUID, request: Request, user: PageUser, s: Session,
                  reference_number: Text = "", claim_status: Text = "",
                  promised_payment_date: Text = "", missing_information: Text = "",
                  next_step: Text = "", follow_up_date: Text = ""):
    it = await store.get(s, user.org_id, interaction_id)
    if it is None or it.task_id is None:
        raise PageError(404, "That call, text or e-mail is not there (or not on a task).")

    def build():
        return OutcomeIn(
            reference_number=reference_number.strip() or None, claim_status=claim_status.strip() or None,
            promised_payment_date=promised_payment_date or None,
            missing_information=missing_information.strip() or None,
            next_step=next_step.strip() or None, follow_up_date=follow_up_date or None)

    async def work(uow, body):
        await service.record_outcome(uow, user, interaction_id, body)
    await s.rollback()
    return await _do(request, s, user, it.task_id,
                     "Outcome saved as a note" + (", follow-up sub-task created." if follow_up_date else "."),
                     build, work)


# ---- triage --------------------------------------------------------------------------

REF = re.compile(r"WQ-([0-9a-f]{8})", re.I)


async def _task_of(s, user: auth.User, text: str) -> uuid.UUID:
    """The task a person named: its id, its link, or its WQ- reference."""
    text = text.strip()
    m = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text, re.I)
    if m:
        return uuid.UUID(m.group(0))
    m = REF.search(text)
    if m:
        found = await task_store.tasks_by_prefix(s, user.org_id, m.group(1).lower())
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise Invalid(f"task: {text[:20]} names more than one task; paste the task's link")
    raise Invalid("task: paste the task's link, its id or its WQ- reference")


async def triage_page(request: Request, s, user: auth.User, *, flash=None, status_code=200):
    items = timeline(await store.triage(s, user.org_id))
    return render(request, "triage.html", status_code=status_code, items=items, flash=flash,
                  title="Triage")


@router.get("/triage")
async def triage(request: Request, user: PageUser, s: Session):
    return await triage_page(request, s, user)


@router.post("/interactions/{interaction_id}/attach")
async def attach(interaction_id: uuid.UUID, request: Request, user: PageUser, s: Session,
                 task: Text = ""):
    try:
        task_id = await _task_of(s, user, task)
        await s.rollback()
        async with actions.unit_of_work(request.app.state.ctx) as uow:
            await service.attach(uow, user, interaction_id, task_id)
    except GatewayError as exc:
        said = ("Not done: no such task in your org." if isinstance(exc, NotFound)
                else f"Not done: {why(exc)}")
        return await triage_page(request, s, user, status_code=status(exc), flash=("error", said))
    return await triage_page(request, s, user, flash=("ok", "Attached: it is on the task now."))
