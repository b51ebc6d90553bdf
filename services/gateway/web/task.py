"""The task page and what staff do on it: status, owner, notes, time, sub-tasks, and
decisions on nba's suggestion."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError

from common import nba_actions
from services.gateway import auth
from services.gateway.deps import Session
from services.gateway.directory import store as directory_store
from services.gateway.errors import GatewayError, NotFound, Stale
from services.gateway.interactions import service as interaction_service
from services.gateway.interactions import store as interaction_store
from services.gateway.tasks import actions, reads, suggestions
from services.gateway.tasks.models import Assignment, NoteIn, StatusChange, SubtaskIn, TimeIn
from services.gateway.web.interactions import timeline as interactions_timeline
from services.gateway.web.refusals import TASK_GONE, status, task_gone, why
from services.gateway.web.session import PageError, PageUser, is_htmx, render

router = APIRouter()


def routing_explanations(history) -> list[dict]:
    """Each routing decision with the people considered, newest first."""
    out = []
    for h in history:
        if h.action == "routed":
            out.append({"at": h.at, **h.detail})
    return list(reversed(out))


async def task_page(request: Request, s, user: auth.User, task_id: uuid.UUID, *,
                    flash: tuple[str, str] | None = None, status_code: int = 200):
    try:
        t = await reads.task_detail(s, user, task_id)
    except NotFound:
        raise PageError(404, TASK_GONE) from None
    users = await directory_store.users_of(s, user.org_id)
    names = {u.id: u.name for u in users}
    decided = {h.detail.get("suggestion_id"): h for h in t.history if h.action == "suggestion_decided"}
    contact = await interaction_store.of_task(s, user.org_id, task_id)
    context = dict(t=t, users=[u for u in users if u.active], names=names,
                   items=interactions_timeline(contact),
                   templates=interaction_service.message_templates(t),
                   routing=routing_explanations(t.history), flash=flash,
                   decided=decided, last_decision=_last_decision(t.history),
                   today=date.today().isoformat(), title=t.title)
    if is_htmx(request):
        return render(request, "partials/task_main.html", status_code=status_code, **context)
    return render(request, "task.html", status_code=status_code, **context)


@router.get("/tasks/{task_id}")
async def task(task_id: uuid.UUID, request: Request, user: PageUser, s: Session):
    return await task_page(request, s, user, task_id)


async def act(request: Request, s, user: auth.User, task_id: uuid.UUID, done: str, build, work):
    """Check a form (``build`` → its model), run one staff action (``work(uow, body)``) and
    show the task again, with what happened or why not."""
    try:
        body = build()
    except (ValidationError, ValueError) as exc:
        return await task_page(request, s, user, task_id, status_code=422,
                               flash=("error", f"Not done: {why(exc)}"))
    try:
        async with actions.unit_of_work(request.app.state.ctx) as uow:
            await work(uow, body)
    except GatewayError as exc:
        if isinstance(exc, NotFound):
            raise PageError(404, TASK_GONE) from None
        said = ("Not done: someone changed this task while you had it open. This is the task "
                "as it is now; check it and try again." if isinstance(exc, Stale)
                else f"Not done: {why(exc)}")
        return await task_page(request, s, user, task_id, status_code=status(exc),
                               flash=("error", said))
    return await task_page(request, s, user, task_id, flash=("ok", done))


Text = Annotated[str, Form()]
Version = Annotated[int, Form()]


def _last_decision(history) -> dict | None:
    """The latest decision on a suggestion, in words, for the task page's panel."""
    for h in reversed(history):
        if h.action == "suggestion_decided":
            return {**h.detail, "label": nba_actions.label(h.detail.get("action") or ""),
                    "suggested_label": nba_actions.label(h.detail.get("suggested_action") or ""),
                    "at": h.at, "actor": h.actor}
    return None


@router.post("/tasks/{task_id}/suggestion")
async def decide_suggestion(task_id: uuid.UUID, request: Request, user: PageUser, s: Session,
                            suggestion_id: Text, decision: Text, action: Text = "", note: Text = "",
                            where: Text = "task"):
    """Accept, modify or dismiss nba's suggestion, from the task page or a queue/board chip."""
    async def answer(level: str, message: str, status_code: int = 200):
        if where == "chip":  # a queue row or board card: the chip becomes what happened
            return render(request, "partials/suggestion_done.html", status_code=status_code,
                          level=level, message=message)
        return await task_page(request, s, user, task_id, status_code=status_code,
                               flash=(level, message))

    try:
        body = suggestions.DecisionIn(suggestion_id=suggestion_id, decision=decision,
                                      action=(action or None) if decision == "modified" else None,
                                      note=note.strip() or None)
        out = await reads.decide_suggestion(request.app.state.ctx, user, task_id, body)
    except (ValidationError, GatewayError) as exc:
        if task_gone(exc):
            raise PageError(404, TASK_GONE) from None
        return await answer("error", f"Not done: {why(exc)}", status(exc))
    label = nba_actions.label(out.action or "")
    return await answer("ok", {
        "accepted": f"Accepted: {label}.",
        "modified": f"Noted: {label} instead of {nba_actions.label(out.suggested_action)}.",
        "dismissed": "Suggestion dismissed."}[out.decision])


@router.post("/tasks/{task_id}/status")
async def set_status(task_id: uuid.UUID, request: Request, user: PageUser, s: Session,
                     status: Text, version: Version, reason: Text = "", business_status: Text = ""):
    def build():
        return StatusChange(status=status, reason=reason.strip() or None,
                                business_status=business_status.strip() or None)

    async def work(uow, body):
        await actions.change_status(uow, user, task_id, status=body.status,
                                    business_status=body.business_status, reason=body.reason,
                                    expected_version=version)
    return await act(request, s, user, task_id, f"Status is now {status.replace('-', ' ')}.",
                     build, work)


@router.post("/tasks/{task_id}/assign")
async def set_owner(task_id: uuid.UUID, request: Request, user: PageUser, s: Session,
                    version: Version, owner_id: Text = "", reason: Text = ""):
    def build():
        return Assignment(owner_id=owner_id or None, reason=reason.strip() or None)

    async def work(uow, body):
        await actions.assign(uow, user, task_id, owner_id=body.owner_id, reason=body.reason,
                             expected_version=version)
    return await act(request, s, user, task_id,
                     "Assigned." if owner_id else "Unassigned: back in the pool.", build, work)


@router.post("/tasks/{task_id}/notes")
async def add_note(task_id: uuid.UUID, request: Request, user: PageUser, s: Session, text: Text = ""):
    async def work(uow, body):
        await actions.add_note(uow, user, task_id, text=body.text)
    return await act(request, s, user, task_id, "Note added.",
                     lambda: NoteIn(text=text.strip()), work)


@router.post("/tasks/{task_id}/time")
async def add_time(task_id: uuid.UUID, request: Request, user: PageUser, s: Session,
                   minutes: Text = "", action: Text = "", performed_on: Text = "", note: Text = ""):
    def build():
        return TimeIn(minutes=minutes or 0, action=action.strip(),
                          performed_on=performed_on or None, note=note.strip() or None)

    async def work(uow, body):
        await actions.log_time(uow, user, task_id, minutes=body.minutes, action=body.action,
                               performed_on=body.performed_on, note=body.note)
    return await act(request, s, user, task_id, f"Logged {minutes} minutes.", build, work)


@router.post("/tasks/{task_id}/subtasks")
async def add_subtask(task_id: uuid.UUID, request: Request, user: PageUser, s: Session,
                      title: Text = "", priority: Text = "", due_on: Text = "", owner_id: Text = ""):
    def build():
        try:
            due = (datetime.combine(date.fromisoformat(due_on), datetime.max.time(), UTC)
                   if due_on else None)
        except ValueError:
            raise ValueError(f"due: '{due_on}' is not a date (YYYY-MM-DD)") from None
        return SubtaskIn(title=title.strip(), priority=priority or None, due_at=due,
                             owner_id=owner_id or None)

    async def work(uow, body):
        await actions.create_subtask(uow, user, task_id, title=body.title, task_type=None,
                                     priority=body.priority, due_at=body.due_at,
                                     owner_id=body.owner_id)
    return await act(request, s, user, task_id, "Sub-task created.", build, work)
