"""The staff web app, served by the gateway: server-rendered pages (Jinja2) made lively
with htmx, and SortableJS for the board. Its assets come from the npm registry at build
time (``make assets``) and are served from here; nothing is loaded from a CDN.

Every page calls the same business functions as the REST API (``queue.service``,
``tasks.actions``, ``directory.service``, ``admin.*``): the rules of the task record, the
queue, people and settings are theirs, and a refusal is their error, put into words once
(``web/refusals.py``). The web app's own rules are about presenting work: what a drop on a
board column asks for (``move_to`` in ``web/queue.py``), the persona filter (which role's
work a persona sees), the board filters each person keeps, and which page or fragment
answers.
"""
from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from services.gateway.web import admin, admin_sla, interactions, queue, signin, task
from services.gateway.web.headers import SecurityHeaders
from services.gateway.web.session import HERE, PageError, SignInRequired, is_htmx, render, sign_in_url

STATIC = HERE / "static"
VENDOR = ("htmx.min.js", "Sortable.min.js")


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)
    r.include_router(signin.router)
    r.include_router(queue.router)
    r.include_router(task.router)
    r.include_router(interactions.router)
    r.include_router(admin.router)
    r.include_router(admin_sla.router)
    return r


class CachedStatic(StaticFiles):
    """Static files with a day of browser caching (names change with the app version)."""

    def file_response(self, *args, **kwargs) -> Response:
        resp = super().file_response(*args, **kwargs)
        resp.headers.setdefault("Cache-Control", "public, max-age=86400")
        return resp


def setup(app: FastAPI) -> None:
    """Static files and HTML answers for the pages' refusals."""
    missing = [n for n in VENDOR if not (STATIC / "vendor" / n).exists()]
    if missing:
        raise RuntimeError(f"web assets missing ({', '.join(missing)}): run `make assets`")
    app.mount("/static", CachedStatic(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders, docs_paths=tuple(p for p in (app.docs_url, app.redoc_url)
                                                         if p))

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if is_htmx(request):  # a partial request: send the whole page to sign-in
            return Response(status_code=204, headers={"HX-Redirect": sign_in_url(exc.next_url)})
        return RedirectResponse(sign_in_url(exc.next_url), status_code=303)

    @app.exception_handler(PageError)
    async def _refused(request: Request, exc: PageError) -> HTMLResponse:
        if is_htmx(request):
            return render(request, "partials/flash.html", status_code=exc.status,
                          level="error", message=exc.message)
        return render(request, "error.html", status_code=exc.status, title=exc.title,
                      message=exc.message)
