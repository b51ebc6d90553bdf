"""The web app's one way to make a page: who is signed in (the session cookie), the CSRF
check on every form and htmx request, and ``render`` (a template in the common layout).

A page that needs a signed-in user declares ``user: PageUser`` (``ManagerPage`` for the
admin screens); anyone else is sent to the sign-in page, and a refusal is an HTML page
that says why, never JSON.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import jwt
from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from services.gateway import auth, domain
from services.gateway.auth import User
from services.gateway.tasks import suggestions

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
CSRF_HEADER = "X-CSRF-Token"


class PageError(Exception):
    """Shown to the person as an HTML page (or an htmx error message) with this status."""

    def __init__(self, status: int, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.title = title or {403: "Not allowed", 404: "Not found"}.get(status, "Something went wrong")


class SignInRequired(Exception):
    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def _secret(request: Request) -> str:
    return request.app.state.ctx.settings.jwt_secret


def csrf_token(request: Request, session_token: str) -> str:
    """A token bound to the session: a page from another site cannot know it."""
    return hmac.new(_secret(request).encode(), session_token.encode(), hashlib.sha256).hexdigest()[:40]


async def page_user(request: Request) -> User:
    """The signed-in user of a page; forms and htmx requests must carry the CSRF token."""
    token = request.cookies.get(auth.COOKIE)
    if not token:
        raise SignInRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    try:
        user = auth.read_token(token, secret=_secret(request))
    except jwt.PyJWTError:
        raise SignInRequired(request.url.path) from None
    if request.method not in ("GET", "HEAD"):
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            sent = (await request.form()).get("csrf")
        if not sent or not hmac.compare_digest(str(sent), csrf_token(request, token)):
            raise PageError(403, "This form has expired or came from another site. "
                                 "Reload the page and try again.", title="Form expired")
    request.state.user = user
    request.state.csrf = csrf_token(request, token)
    return user


def manager_page(user: Annotated[User, Depends(page_user)]) -> User:
    """Practice managers and org admins only."""
    if not user.is_manager:
        raise PageError(403, "Only a practice manager or org admin may open the admin screens.")
    return user


PageUser = Annotated[User, Depends(page_user)]
ManagerPage = Annotated[User, Depends(manager_page)]


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(request: Request, template: str, status_code: int = 200, headers: dict | None = None,
           **context):
    """A template with what every page needs: the user, the CSRF token, the clock."""
    return templates.TemplateResponse(request, template, {
        "user": getattr(request.state, "user", None), "csrf": getattr(request.state, "csrf", ""),
        "now": datetime.now(UTC), "htmx": is_htmx(request), **context},
        status_code=status_code, headers=headers)


def sign_in_url(next_url: str) -> str:
    return f"/login?next={quote(next_url, safe='')}"


# ---------- what templates show ----------

def countdown(due_at: datetime, now: datetime) -> str:
    """'due in 3d 4h', 'overdue by 2h' — the SLA clock in words."""
    delta = due_at - now
    seconds = abs(int(delta.total_seconds()))
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes = rem // 60
    if days:
        text = f"{days}d {hours}h" if days < 10 and hours else f"{days}d"
    elif hours:
        text = f"{hours}h {minutes}m" if minutes else f"{hours}h"
    else:
        text = f"{max(minutes, 1)}m"
    return f"overdue by {text}" if delta.total_seconds() <= 0 else f"due in {text}"


def initials(name: str | None) -> str:
    parts = [p for p in (name or "").replace(",", " ").split() if p[:1].isalpha()]
    return ("".join(p[0] for p in parts[:2]) or "?").upper()


def avatar_hue(key: str | None) -> int:
    """A stable colour per person, so the same face is the same colour everywhere."""
    return int(hashlib.md5((key or "").encode()).hexdigest()[:4], 16) % 360


ROLE_LABELS = {"biller": "Biller", "senior_biller": "Senior biller", "nurse": "Nurse",
               "physician": "Physician", "care_coordinator": "Care coordinator",
               "practice_manager": "Practice manager", "org_admin": "Org admin",
               "billing_admin": "Billing admin"}


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role.replace("_", " ").capitalize())


def status_label(status: str) -> str:
    return status.replace("-", " ").capitalize()


templates.env.globals.update(countdown=countdown, initials=initials, avatar_hue=avatar_hue,
                             role_label=role_label, status_label=status_label,
                             COLUMNS=domain.COLUMNS, PRIORITIES=domain.PRIORITIES,
                             NBA_ACTIONS=suggestions.action_catalogue())


def dt(d: datetime | str | None) -> str:
    """A UTC time as people read it (the browser rewrites it into their own zone)."""
    if isinstance(d, str):
        d = datetime.fromisoformat(d)
    return d.astimezone(UTC).strftime("%b %-d, %Y %H:%M UTC") if d else ""


templates.env.filters["dt"] = dt
templates.env.filters["date"] = lambda d: d.strftime("%b %-d, %Y") if d else ""
