"""The service credential: what one service shows another's internal API.

Every internal API (nba's suggestions, intake's ingest and org look-ups) requires the
shared secret ``SERVICE_TOKEN`` in ``X-Service-Token`` (or as ``Authorization: Bearer``),
compared in constant time; callers send it with ``headers(settings)``. Outside development
mode no service starts with the development value (``common.settings``).
"""
from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, status

HEADER = "X-Service-Token"


def headers(settings) -> dict[str, str]:
    """The header a caller sends to another service's internal API."""
    return {HEADER: settings.service_token}


def presented(request: Request) -> str | None:
    """The credential a request carries, if any."""
    token = request.headers.get(HEADER)
    if token is None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else None
    return token or None


async def require_service(request: Request) -> None:
    """FastAPI dependency: 401 unless the request carries this stack's service credential."""
    token = presented(request)
    expected = request.app.state.ctx.settings.service_token
    if token is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            f"an internal API: send the service credential in {HEADER}",
                            headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid service credential",
                            headers={"WWW-Authenticate": "Bearer"})
