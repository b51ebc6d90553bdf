"""/healthz, /readyz and /metrics, mounted on every service's API and worker."""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine

from common import kafka
from common.settings import CommonSettings

Check = Callable[[], Awaitable[None]]


def checks_for(settings: CommonSettings, engine: AsyncEngine) -> dict[str, Check]:
    """Readiness: the service's database and the broker both answer."""

    async def database() -> None:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def broker() -> None:
        await kafka.ping(settings)

    return {"database": database, "broker": broker}


def router(service: str, checks: dict[str, Check], cache_s: float = 2.0) -> APIRouter:
    r = APIRouter(tags=["health"])
    cached: dict[str, tuple[float, str | None]] = {}

    @r.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict:
        return {"status": "ok", "service": service}

    @r.get("/readyz", summary="Readiness: database and broker reachable")
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        now = time.monotonic()
        for name, check in checks.items():
            hit = cached.get(name)
            if hit and now - hit[0] < cache_s:
                error = hit[1]
            else:
                try:
                    await check()
                    error = None
                except Exception as exc:  # any failure means not ready, with the reason
                    error = f"{type(exc).__name__}: {exc}"[:300]
                cached[name] = (now, error)
            results[name] = "ok" if error is None else error
        ok = all(v == "ok" for v in results.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "service": service,
                             "checks": results}, status_code=200 if ok else 503)

    @r.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def prom() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return r
