"""The queue (filters, saved views, "Load more") and the board (columns, drag and drop,
filters saved per person)."""
from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from common import vocabulary
from services.gateway import auth, domain
from services.gateway.deps import Session
from services.gateway.directory import service as directory
from services.gateway.errors import GatewayError, Refused
from services.gateway.queue import service as queue_service
from services.gateway.queue import store as queue_store
from services.gateway.queue.models import QueueFilter, QueueParams, ViewIn
from services.gateway.tasks import actions
from services.gateway.tasks import store as task_store
from services.gateway.web.refusals import problems, status, why
from services.gateway.web.session import PageError, PageUser, is_htmx, render

router = APIRouter()

SOURCE_MODULES = vocabulary.SOURCE_MODULES
# The board's persona filter: which working role's work to show.
PERSONAS = {"billers": "biller", "nurses": "nurse", "providers": "physician",
            "coordinators": "care_coordinator"}
QUEUE_PAGE = 50
BOARD_CARDS = 30
LIST_FIELDS = ("task_type", "priority", "status", "skills")


# ---------- the queue ----------

def queue_params(request: Request) -> dict:
    """The queue's filters from a query string. An empty field is kept as "any" (so it
    overrides what the chosen view says), except the view, sort and paging fields."""
    q = request.query_params
    out: dict = {}
    for key in set(q.keys()):
        if key not in QueueParams.model_fields:
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
        params = QueueParams.model_validate({"limit": QUEUE_PAGE, **raw})
        return await queue_service.queue_page(s, user, params), None
    except ValidationError as exc:
        return None, problems(exc)
    except GatewayError as exc:
        return None, why(exc)


def next_query(raw: dict, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    kept = {k: ("" if v is None else v or [""]) for k, v in raw.items() if k != "cursor"}
    return urlencode({**kept, "cursor": cursor}, doseq=True)


@router.get("/queue")
async def queue(request: Request, user: PageUser, s: Session):
    raw = queue_params(request)
    page, error = await load_queue(request, s, user, raw)
    names = await directory.names(s, user.org_id)
    context = dict(page=page, error=error, raw=raw, names=names, shown=await shown_filters(s, user, raw),
                   more=next_query(raw, page.next_cursor) if page else None)
    code = 422 if error else 200
    if is_htmx(request) and request.headers.get("HX-Target") == "queue-results":
        return render(request, "partials/queue_results.html", status_code=code, **context)
    views = await queue_service.views_for(s, user)
    return render(request, "queue.html", status_code=code, title="Queue", views=views,
                  task_types=vocabulary.TASK_TYPES, modules=SOURCE_MODULES, users=names, **context)


async def shown_filters(s, user: auth.User, raw: dict) -> dict:
    """What the filter form shows: the view's filters under the explicit ones."""
    try:
        f = QueueFilter.model_validate({k: v for k, v in raw.items()
                                            if k in QueueFilter.model_fields})
        return (await queue_service.resolve_view(s, user, f)).model_dump() | {"view": raw.get("view")}
    except (ValidationError, GatewayError):
        return raw


@router.get("/queue/rows")
async def queue_rows(request: Request, user: PageUser, s: Session):
    """The next page of rows ("Load more")."""
    raw = queue_params(request)
    page, error = await load_queue(request, s, user, raw)
    if error:
        raise PageError(422, error)
    names = await directory.names(s, user.org_id)
    return render(request, "partials/queue_rows.html", page=page, names=names,
                  more=next_query(raw, page.next_cursor))


@router.post("/views")
async def save_view(request: Request, user: PageUser, s: Session):
    form = await request.form()
    name = str(form.get("name", "")).strip()
    filters = {k: (form.getlist(k) if k in LIST_FIELDS else form.get(k))
               for k in QueueFilter.model_fields if k != "view" and form.get(k)}
    try:
        body = ViewIn(name=name, shared=form.get("shared") == "on", filters=filters)
        view = await queue_service.store_view(s, user, body)
    except ValidationError as exc:
        raise PageError(422, f"The view was not saved: {problems(exc)}") from None
    except GatewayError as exc:
        raise PageError(status(exc), f"The view was not saved: {why(exc)}") from None
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

    def queue_filter(self) -> QueueFilter:
        return QueueFilter(
            role=PERSONAS.get(self.persona or ""),
            priority=[self.priority] if self.priority in domain.PRIORITIES else [],
            source_module=self.source_module or None, owner="me" if self.mine else None)


async def board_columns(s, user: auth.User, filters: BoardFilters) -> dict:
    return await queue_service.board(s, user, filters.queue_filter(), cards=BOARD_CARDS)


@router.get("/board")
async def board(request: Request, user: PageUser, s: Session):
    saved = await queue_store.get_pref(s, user.id, "board") or {}
    given = {k: v for k, v in request.query_params.items() if k in BoardFilters.model_fields}
    filters = BoardFilters.model_validate({**saved, **given} if given else saved)
    if given and filters.model_dump() != saved:  # filters persist per user
        await queue_store.set_pref(s, user_id=user.id, org_id=user.org_id, name="board",
                                   value=filters.model_dump())
        await s.commit()
    names = await directory.names(s, user.org_id)
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
    row = await task_store.get_task(s, user.org_id, move.task_id)
    if row is None:
        return _json({"message": "That task no longer exists in your org."}, 404)
    wanted, business = move_to(move.column, row.status)
    try:
        async with actions.unit_of_work(request.app.state.ctx) as uow:
            version = await actions.change_status(
                uow, user, move.task_id, status=wanted, business_status=business,
                reason=f"moved to {move.column} on the board", expected_version=move.version)
    except GatewayError as exc:
        message = why(exc)
        if isinstance(exc, Refused):
            message = f"'{row.title}' cannot move to {move.column}: {exc}"
        return _json({"message": message}, status(exc))
    return _json({"version": version, "column": move.column,
                  "counts": await queue_service.column_counts(s, user, BoardFilters.model_validate(
                      await queue_store.get_pref(s, user.id, "board") or {}).queue_filter())})


def _json(body: dict, status_code: int = 200) -> Response:
    return JSONResponse(body, status_code=status_code)
