"""REST: sign-in, who is signed in, and the org's people."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.gateway import auth
from services.gateway.deps import CurrentUser, Manager, Session, client_address, ctx
from services.gateway.directory import service
from services.gateway.directory.models import Login, Token, UserIn, UserOut, UserPatch

r = APIRouter()


@r.post("/auth/token", response_model=Token, tags=["auth"], summary="Sign in",
        responses={401: {"description": "wrong e-mail or password"},
                   429: {"description": "too many failed sign-ins (Retry-After)"}})
async def sign_in(body: Login, request: Request, response: Response, s: Session) -> Token:
    settings = ctx(request).settings
    token = await service.authenticate(s, settings, body, limiter=request.app.state.signin_limiter,
                                       address=client_address(request))
    auth.set_session_cookie(response, token.access_token, max_age=token.expires_in,
                            secure=settings.secure_cookies)
    return token


@r.get("/me", response_model=UserOut, tags=["auth"], summary="Who is signed in")
async def me(user: CurrentUser, s: Session) -> UserOut:
    return await service.me(s, user)


@r.get("/users", response_model=list[UserOut], tags=["directory"],
       summary="Your org's users (for assignment)")
async def users(user: CurrentUser, s: Session) -> list[UserOut]:
    return await service.people(s, user)


@r.post("/users", response_model=UserOut, status_code=201, tags=["directory"],
        summary="Add a user to your org (managers)",
        responses={409: {"description": service.EMAIL_REFUSED}})
async def add_user(body: UserIn, user: Manager, request: Request) -> UserOut:
    return await service.add_person(ctx(request), user, body)


@r.patch("/users/{user_id}", response_model=UserOut, tags=["directory"],
         summary="Change a user's roles, skills, capacity, away or active (managers)")
async def patch_user(user_id: str, body: UserPatch, user: Manager, request: Request) -> UserOut:
    return await service.change_user(ctx(request), user, user_id, body)
