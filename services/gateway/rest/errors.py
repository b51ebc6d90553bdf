"""The REST API's one translation of business errors: a JSON body ``{"detail": …}`` with
the error's status (a refused status move: ``{"message", "current", "allowed"}``), and the
headers that go with it (ETag of the stored version, WWW-Authenticate, Retry-After)."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.gateway import domain
from services.gateway.errors import GatewayError, Refused, Stale, TooManyAttempts, Unauthorized


def answer(exc: GatewayError) -> JSONResponse:
    """A business error as the REST API answers it."""
    detail: str | dict = str(exc)
    headers = None
    if isinstance(exc, Refused):
        detail = {"message": str(exc), "current": exc.current, "allowed": exc.allowed}
    elif isinstance(exc, Stale):
        headers = {"ETag": domain.etag(exc.current)}
    elif isinstance(exc, Unauthorized) and exc.challenge:
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(exc, TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after_s)}
    return JSONResponse({"detail": detail}, status_code=exc.status, headers=headers)


def install(app: FastAPI) -> None:
    """Answer every business error that reaches the app as the REST API does (the web
    pages and FHIR translate theirs before)."""

    @app.exception_handler(GatewayError)
    async def _business_error(request: Request, exc: GatewayError) -> JSONResponse:
        return answer(exc)
