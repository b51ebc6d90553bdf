"""What a request's handlers get: the process's context, a database session, the client's
address and the signed-in user (from a Bearer token or the web app's session cookie)."""
from __future__ import annotations

from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from common.runtime import Context
from services.gateway import auth
from services.gateway.auth import User
from services.gateway.errors import Forbidden, Unauthorized


def ctx(request: Request) -> Context:
    return request.app.state.ctx


async def session(request: Request):
    async with ctx(request).sessions() as s:
        yield s


Session = Annotated[object, Depends(session)]


def client_address(request: Request) -> str:
    """The address sign-in attempts are counted against (uvicorn resolves a trusted
    proxy's X-Forwarded-For into it)."""
    return request.client.host if request.client else "unknown"


def user_of_token(request: Request, token: str | None) -> User:
    """The user a session token names; Unauthorized when there is none, or it is expired
    or forged."""
    if not token:
        raise Unauthorized("sign in first: no bearer token")
    try:
        return auth.read_token(token, secret=ctx(request).settings.jwt_secret)
    except jwt.ExpiredSignatureError:
        raise Unauthorized("your session has expired: sign in again") from None
    except jwt.PyJWTError:
        raise Unauthorized("invalid token") from None


_bearer = HTTPBearer(auto_error=False)


async def current_user(request: Request,
                       cred: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> User:
    """The signed-in user, from a Bearer token or the web UI's session cookie."""
    return user_of_token(request, cred.credentials if cred else request.cookies.get(auth.COOKIE))


CurrentUser = Annotated[User, Depends(current_user)]


def require_manager(user: CurrentUser) -> User:
    """Practice managers and org admins only."""
    if not user.is_manager:
        raise Forbidden("only a practice manager or org admin may do this")
    return user


Manager = Annotated[User, Depends(require_manager)]
