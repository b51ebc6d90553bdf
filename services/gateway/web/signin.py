"""Sign-in and sign-out pages (the same check and cookie as the API's sign-in)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from services.gateway import auth
from services.gateway.deps import Session, client_address
from services.gateway.directory import service as directory
from services.gateway.directory.models import Login
from services.gateway.errors import TooManyAttempts, Unauthorized
from services.gateway.web.session import PageUser, render

router = APIRouter()


def safe_next(url: str | None) -> str:
    """Only a path of this site (never //other.host) after signing in."""
    return url if url and url.startswith("/") and not url.startswith("//") else "/queue"


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
        token = await directory.authenticate(s, settings,
                                             Login(email=email.strip(), password=password,
                                                   org=org.strip() or None),
                                             limiter=request.app.state.signin_limiter,
                                             address=client_address(request))
    except TooManyAttempts as exc:
        return render(request, "login.html", status_code=429, title="Sign in",
                      headers={"Retry-After": str(exc.retry_after_s)}, next=safe_next(next),
                      email=email[:200], org=org[:200], error=f"Not signed in: {exc}.")
    except (ValidationError, Unauthorized):
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
