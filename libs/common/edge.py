"""What every HTTP API does at its edge, once: a bound on the whole body, validation errors
that name the field, and input the database cannot hold answered as a 4xx, never a 500.
No answer or log line repeats the caller's values (they may be patient data)."""
from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common import logs

log = logs.get(__name__)


class BodyLimit:
    """Refuse a request body over ``max_bytes`` with 413, whether it says its length or
    streams it, before the application reads it whole."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._refuse(send)
                    return
        seen = 0
        state = {"started": False, "refused": False}

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    # Answer now, and tell the app the client left, so it stops reading.
                    if not state["started"] and not state["refused"]:
                        state["refused"] = True
                        await self._refuse(send)
                    return {"type": "http.disconnect"}
            return msg

        async def tracking(msg: Message) -> None:
            if state["refused"]:
                return  # the app's own answer to the cut-off body goes nowhere
            if msg["type"] == "http.response.start":
                state["started"] = True
            await send(msg)

        await self.app(scope, limited, tracking)

    async def _refuse(self, send: Send) -> None:
        body = (b'{"detail":"request body too large: at most %d bytes"}' % self.max_bytes)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _field(loc: tuple, body: dict) -> str:
    """'body.DenialPosted.payload.amount' → 'payload.amount' (drop the body and union tag)."""
    parts = list(loc[1:] if loc and loc[0] == "body" else loc)
    if parts and parts[0] == body.get("event_type"):
        parts = parts[1:]
    return ".".join(str(x) for x in parts)


def _message(err: dict) -> str:
    if err["type"] == "string_pattern_mismatch" and "x00" in str(err.get("ctx", {}).get("pattern")):
        return "must not contain a NUL character"
    return err["msg"]


def validation_errors(exc: RequestValidationError) -> list[dict]:
    """Each problem as {field, message, type}; never the value that was sent."""
    body = exc.body if isinstance(exc.body, dict) else {}
    return [{"field": _field(e["loc"], body), "message": _message(e), "type": e["type"]}
            for e in exc.errors()]


def install(app: FastAPI, *, max_body_bytes: int) -> None:
    """The edge of one API: body bound, readable 422s, unstorable input as 422."""
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse({"detail": f"invalid request: {summary}", "errors": errors},
                            status_code=422)

    @app.exception_handler(sa.exc.DataError)
    async def _unstorable(request: Request, exc: sa.exc.DataError) -> JSONResponse:
        # Input the database cannot hold that the models let through: the caller's to fix,
        # so a 4xx; the database's own text may quote the value, so only its class is said.
        log.warning("unstorable_input", path=request.url.path, error=exc)
        return JSONResponse({"detail": "a value cannot be stored (out of range or invalid "
                                       "characters)"}, status_code=422)
