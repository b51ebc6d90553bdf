"""Sign-in, the queue, the board and the task page."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from common import nba_actions, vocabulary
from services.gateway import actions, api, auth, domain, store, suggestions
from services.gateway.signin_limits import TooManyAttempts
from services.gateway.web.session import PageError, PageUser, is_htmx, render

router = APIRouter()
Session = api.Session

TASK_TYPES = vocabulary.TASK_TYPES
SOURCE_MODULES = vocabulary.SOURCE_MODULES
# The board's persona filter: which working role's work to show.
PERSONAS = {"billers": "biller", "nurses": "nurse", "providers": "physician",
            "coordinators": "care_coordinator"}
QUEUE_PAGE = 50
BOARD_CARDS = 30
LIST_FIELDS = ("task_type", "priority", "status", "skills")


def problems(exc: ValidationError) -> str:
    """A ValidationError in words: 'minutes: Input should be greater than or equal to 1'."""
    return "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" if e["loc"] else e["msg"]
                     for e in exc.errors())


def refused(exc: HTTPException) -> str:
    d = exc.detail
    return d.get("message", str(d)) if isinstance(d, dict) else str(d)


def safe_next(url: str | None) -> str:
    """Only a path of this site (never //other.host) after signing in."""
    return url if url and url.startswith("/") and not url.startswith("//") else "/queue"


# ---------- sign-in ----------

@router.get("/")
async def home() -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/login")
async def login_form(request: Request, next: str = "/queue"):
    return render(request, "login.html", title="Sign in", next=safe_next(next))


@router.post("/login")
async def login(request: Request, s: Session, email: Annotated[str, Form()] = "",
                password: Annotated[str, Form()] = "", org: Annotated[str, Form()] = "",
                next: Annotated[str, Form()] = "/queue"):
    settings = request.app.state.ctx.settings
    try:
        token = await api.authenticate(s, settings,
                                       api.Login(email=email.strip(), password=password,
                                                 org=org.strip() or None),
                                       limiter=request.app.state.signin_limiter,
                                       address=api.client_address(request))
    except TooManyAttempts as exc:
        return render(request, "login.html", status_code=429, title="Sign in",
                      headers={"Retry-After": str(exc.retry_after_s)}, next=safe_next(next),
                      email=email[:200], org=org[:200], error=f"Not signed in: {exc}.")
    except (ValidationError, HTTPException):
        return render(request, "login.html", status_code=401, title="Sign in", next=safe_next(next),
                      email=email[:200], org=org[:200],
                      error="That e-mail and password do not match an account.")
    resp = RedirectResponse(safe_next(next), status_code=303)
    auth.set_session_cookie(resp, token.access_token, max_age=token.expires_in,
                            secure=settings.secure_cookies)
    return resp


@router.post("/logout")
async def logout(request: Request, user: PageUser) -> Response:
    resp = RedirectResponse("/login", status_code=303)
    auth.clear_session_cookie(resp, secure=request.app.state.ctx.settings.secure_cookies)
    return resp


# ---------- the queue ----------

def queue_params(request: Request) -> dict:
    """The queue's filters from a query string. An empty field is kept as "any" (so it
    overrides what the chosen view says), except the view, sort and paging fields."""
    q = request.query_params
    out: dict = {}
    for key in set(q.keys()):
        if key not in api.QueueParams.model_fields:
            continue
        values = [v.strip() for v in q.getlist(key) if v.strip()]
        if key in LIST_FIELDS:
            out[key] = values
        elif values:
            out[key] = values[-1]
        elif key not in ("view", "sort", "cursor", "limit"):
            out[key] = None
    return out


async def load_queue(request: Request, s, user: auth.User, raw: dict):
    """A page of the queue, or the reason the filters are refused."""
    try:
        params = api.QueueParams.model_validate({"limit": QUEUE_PAGE, **raw})
        return await api.queue_page(s, user, params), None
    except ValidationError as exc:
        return None, problems(exc)
    except HTTPException as exc:
        return None, refused(exc)


def next_query(raw: dict, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    from urllib.parse import urlencode

    kept = {k: ("" if v is None else v or [""]) for k, v in raw.items() if k != "cursor"}
    return urlencode({**kept, "cursor": cursor}, doseq=True)


@router.get("/queue")
async def queue(request: Request, user: PageUser, s: Session):
    raw = queue_params(request)
    page, error = await load_queue(request, s, user, raw)
    names = {u.id: u.name for u in await store.users_of(s, user.org_id)}
    context = dict(page=page, error=error, raw=raw, names=names, shown=await shown_filters(s, user, raw),
                   more=next_query(raw, page.next_cursor) if page else None)
    status = 422 if error else 200
    if is_htmx(request) and request.headers.get("HX-Target") == "queue-results":
        return render(request, "partials/queue_results.html", status_code=status, **context)
    views = await api.views_for(s, user)
    return render(request, "queue.html", status_code=status, title="Queue", views=views,
                  task_types=TASK_TYPES, modules=SOURCE_MODULES, users=names, **context)


async def shown_filters(s, user: auth.User, raw: dict) -> dict:
    """What the filter form shows: the view's filters under the explicit ones."""
    try:
        f = api.QueueFilter.model_validate({k: v for k, v in raw.items()
                                            if k in api.QueueFilter.model_fields})
        return (await api.resolve_view(s, user, f)).model_dump() | {"view": raw.get("view")}
    except (ValidationError, HTTPException):
        return raw


@router.get("/queue/rows")
async def queue_rows(request: Request, user: PageUser, s: Session):
    """The next page of rows ("Load more")."""
    raw = queue_params(request)
    page, error = await load_queue(request, s, user, raw)
    if error:
        raise PageError(422, error)
    names = {u.id: u.name for u in await store.users_of(s, user.org_id)}
    return render(request, "partials/queue_rows.html", page=page, names=names,
                  more=next_query(raw, page.next_cursor))


@router.post("/views")
async def save_view(request: Request, user: PageUser, s: Session):
    form = await request.form()
    name = str(form.get("name", "")).strip()
    filters = {k: (form.getlist(k) if k in LIST_FIELDS else form.get(k))
               for k in api.QueueFilter.model_fields if k != "view" and form.get(k)}
    try:
        body = api.ViewIn(name=name, shared=form.get("shared") == "on", filters=filters)
        view = await api.store_view(s, user, body)
    except ValidationError as exc:
        raise PageError(422, f"The view was not saved: {problems(exc)}") from None
    except HTTPException as exc:
        raise PageError(exc.status_code, f"The view was not saved: {refused(exc)}") from None
    target = f"/queue?view={view.id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


# ---------- the board ----------

class BoardFilters(BaseModel):
    persona: str | None = None
    priority: str | None = None
    source_module: str | None = None
    mine: bool = False

    def queue_filter(self) -> api.QueueFilter:
        return api.QueueFilter(
            role=PERSONAS.get(self.persona or ""),
            priority=[self.priority] if self.priority in domain.PRIORITIES else [],
            source_module=self.source_module or None, owner="me" if self.mine else None)


async def board_columns(s, user: auth.User, filters: BoardFilters) -> dict:
    f = filters.queue_filter()
    now = datetime.now(UTC)
    counts = await api.column_counts(s, user, f)
    cards = {}
    for column in domain.COLUMNS:
        rows = (await s.execute(store.board_column(f, column, org_id=user.org_id, user_id=user.id,
                                                   now=now, limit=BOARD_CARDS))).all()
        cards[column] = [api.task_out(r, now) for r in rows]
    await suggestions.attach(user.org_id, cards[domain.COLUMNS[0]])  # shown on To Do cards
    return {"counts": counts, "cards": cards}


@router.get("/board")
async def board(request: Request, user: PageUser, s: Session):
    saved = await store.get_pref(s, user.id, "board") or {}
    given = {k: v for k, v in request.query_params.items() if k in BoardFilters.model_fields}
    filters = BoardFilters.model_validate({**saved, **given} if given else saved)
    if given and filters.model_dump() != saved:  # filters persist per user
        await store.set_pref(s, user_id=user.id, org_id=user.org_id, name="board",
                             value=filters.model_dump())
        await s.commit()
    names = {u.id: u.name for u in await store.users_of(s, user.org_id)}
    context = dict(filters=filters, names=names, personas=PERSONAS, modules=SOURCE_MODULES,
                   **await board_columns(s, user, filters))
    if is_htmx(request) and request.headers.get("HX-Target") == "board":
        return render(request, "partials/board_columns.html", **context)
    return render(request, "board.html", title="Board", **context)


class Move(BaseModel):
    task_id: uuid.UUID
    version: int
    column: str


def move_to(column: str, current: str) -> tuple[str, str | None]:
    """What a drop on a column asks for: (status, businessStatus)."""
    if column == "Review":
        return "in-progress", "in review"
    if column == "In Progress" and current == "on-hold":
        return "on-hold", None
    return domain.STATUS_FOR_COLUMN[column], None


@router.post("/board/move")
async def board_move(request: Request, user: PageUser, s: Session) -> Response:
    """A card dropped on a column: the status change, or 409 with why (the card snaps back)."""
    try:
        move = Move.model_validate(await request.json())
    except (ValidationError, ValueError):
        return _json({"message": "That move could not be read; reload the board."}, 422)
    if move.column not in domain.COLUMNS:
        return _json({"message": f"There is no column '{move.column}'."}, 422)
    row = await store.get_task(s, user.org_id, move.task_id)
    if row is None:
        return _json({"message": "That task no longer exists in your org."}, 404)
    status, business = move_to(move.column, row.status)
    try:
        with api.refusals():
            async with actions.unit_of_work(request.app.state.ctx) as uow:
                version = await actions.change_status(
                    uow, user, move.task_id, status=status, business_status=business,
                    reason=f"moved to {move.column} on the board", expected_version=move.version)
    except HTTPException as exc:
        message = refused(exc)
        if exc.status_code == 409:
            message = (f"'{row.title}' cannot move to {move.column}: "
                       f"{domain.TransitionRefused(row.status, status)}")
        return _json({"message": message}, exc.status_code)
    return _json({"version": version, "column": move.column,
                  "counts": await api.column_counts(s, user, BoardFilters.model_validate(
                      await store.get_pref(s, user.id, "board") or {}).queue_filter())})


def _json(body: dict, status: int = 200) -> Response:
    from fastapi.responses import JSONResponse

    return JSONResponse(body, status_code=status)


# ---------- the task page ----------

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
        t = await api.task_detail(s, user, task_id)
    except HTTPException:
        raise PageError(404, "This task does not exist, or it is not one of your org's.") from None
    users = await store.users_of(s, user.org_id)
    names = {u.id: u.name for u in users}
    decided = {h.detail.get("suggestion_id"): h for h in t.history if h.action == "suggestion_decided"}
    context = dict(t=t, users=[u for u in users if u.active], names=names,
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
        why = problems(exc) if isinstance(exc, ValidationError) else str(exc)
        return await task_page(request, s, user, task_id, status_code=422,
                               flash=("error", f"Not done: {why}"))
    try:
        with api.refusals():
            async with actions.unit_of_work(request.app.state.ctx) as uow:
                await work(uow, body)
    except HTTPException as exc:
        if exc.status_code == 404:
            raise PageError(404, "This task does not exist, or it is not one of your org's.") from None
        why = ("Not done: someone changed this task while you had it open. This is the task "
               "as it is now; check it and try again." if exc.status_code == 412
               else f"Not done: {refused(exc)}")
        return await task_page(request, s, user, task_id, status_code=exc.status_code,
                               flash=("error", why))
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
        out = await api.decide_suggestion(request.app.state.ctx, user, task_id, body)
    except (ValidationError, HTTPException) as exc:
        if isinstance(exc, HTTPException) and exc.status_code == 404 and str(exc.detail).startswith("task "):
            raise PageError(404, "This task does not exist, or it is not one of your org's.") from None
        why = problems(exc) if isinstance(exc, ValidationError) else refused(exc)
        status = 422 if isinstance(exc, ValidationError) else exc.status_code
        return await answer("error", f"Not done: {why}", status)
    label = nba_actions.label(out.action or "")
    return await answer("ok", {
        "accepted": f"Accepted: {label}.",
        "modified": f"Noted: {label} instead of {nba_actions.label(out.suggested_action)}.",
        "dismissed": "Suggestion dismissed."}[out.decision])


@router.post("/tasks/{task_id}/status")
async def set_status(task_id: uuid.UUID, request: Request, user: PageUser, s: Session,
                     status: Text, version: Version, reason: Text = "", business_status: Text = ""):
    def build():
        return api.StatusChange(status=status, reason=reason.strip() or None,
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
        return api.Assignment(owner_id=owner_id or None, reason=reason.strip() or None)

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
                     lambda: api.NoteIn(text=text.strip()), work)


@router.post("/tasks/{task_id}/time")
async def add_time(task_id: uuid.UUID, request: Request, user: PageUser, s: Session,
                   minutes: Text = "", action: Text = "", performed_on: Text = "", note: Text = ""):
    def build():
        return api.TimeIn(minutes=minutes or 0, action=action.strip(),
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
        return api.SubtaskIn(title=title.strip(), priority=priority or None, due_at=due,
                             owner_id=owner_id or None)

    async def work(uow, body):
        await actions.create_subtask(uow, user, task_id, title=body.title, task_type=None,
                                     priority=body.priority, due_at=body.due_at,
                                     owner_id=body.owner_id)
    return await act(request, s, user, task_id, "Sub-task created.", build, work)
