"""/healthz, /readyz and /metrics, mounted on every service's API and worker.

Ready means "can serve". An API answers from its database and leaves what it emits in the
outbox, so it stays ready while the broker is away (the broker shows as ``degraded`` in
the detail and in ``wq_broker_up``); a worker, whose work is the bus, is not ready without
it. Either is not ready when its database does not answer, or when its outbox is stuck:
events have waited longer than ``outbox_stuck_after_s`` although the broker answers.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine

from common import kafka, logs, metrics, timers
from common.outbox import outbox_backlog
from common.settings import CommonSettings

Check = Callable[[], Awaitable[None]]


class Degraded(Exception):
    """A check found trouble that does not stop this process serving."""


class BrokerWatch:
    """The broker's reachability, checked in the background every few seconds, so that a
    readiness probe never waits on a broker that does not answer."""

    def __init__(self, settings: CommonSettings, every_s: float = 2.0) -> None:
        self.settings = settings
        self.every_s = every_s
        self.up: bool | None = None  # None: not checked yet
        self.error: str | None = None
        self._task: asyncio.Task | None = None

    async def _probe(self) -> None:
        await kafka.ping(self.settings, timeout=min(1.5, self.every_s))
        self.up, self.error = True, None
        metrics.BROKER_UP.set(1)

    def _down(self, exc: Exception) -> None:
        self.up, self.error = False, logs.error_text(exc)
        metrics.BROKER_UP.set(0)

    async def _run(self) -> None:
        await timers.every(self.every_s, self._probe, name="broker_watch", on_error=self._down)

    async def current(self) -> bool:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="broker-watch")
            for _ in range(30):  # the first answer, at most 1.5 s
                if self.up is not None:
                    break
                await asyncio.sleep(0.05)
        return bool(self.up)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@dataclass
class Checks:
    """Named checks: ``required`` ones decide readiness, the others are detail only."""
    required: dict[str, Check]
    detail: dict[str, Check]
    broker: BrokerWatch


def checks_for(settings: CommonSettings, engine: AsyncEngine, outbox: sa.Table | None = None,
               *, broker_required: bool) -> Checks:
    """Readiness of one process: its database, its outbox, and (for a worker) the broker."""
    watch = BrokerWatch(settings)

    async def database() -> None:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def broker() -> None:
        if not await watch.current():
            raise (ConnectionError if broker_required else Degraded)(
                f"broker unreachable ({watch.error}); events wait in the outbox")

    async def outbox_flowing() -> None:
        pending, age = await outbox_backlog(engine, outbox)
        if age > settings.outbox_stuck_after_s and pending:
            if await watch.current():
                raise RuntimeError(f"outbox stuck: {pending} events, the oldest waiting "
                                   f"{age:.0f} s although the broker answers")
            raise Degraded(f"{pending} events wait for the broker (oldest {age:.0f} s)")

    required = {"database": database}
    if outbox is not None:
        required["outbox"] = outbox_flowing
    if broker_required:
        required["broker"] = broker
        return Checks(required, {}, watch)
    return Checks(required, {"broker": broker}, watch)


def router(service: str, checks: Checks, cache_s: float = 2.0) -> APIRouter:
    r = APIRouter(tags=["health"])
    cached: dict[str, tuple[float, str]] = {}

    async def run(name: str, check: Check) -> str:
        hit = cached.get(name)
        now = time.monotonic()
        if hit and now - hit[0] < cache_s:
            return hit[1]
        try:
            await asyncio.wait_for(check(), 3.0)
            result = "ok"
        except Degraded as exc:
            result = f"degraded: {exc}"[:300]
        except Exception as exc:  # any failure means not ready, with the reason
            result = (str(exc) if isinstance(exc, RuntimeError | ConnectionError)
                      else logs.error_text(exc))[:300]
        cached[name] = (now, result)
        return result

    @r.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict:
        return {"status": "ok", "service": service}

    @r.get("/readyz", summary="Readiness: the database answers and the outbox flows "
                              "(workers: and the broker answers)")
    async def readyz() -> JSONResponse:
        names = [*checks.required, *checks.detail]
        funcs = [*checks.required.values(), *checks.detail.values()]
        results = dict(zip(names, await asyncio.gather(*(run(n, f) for n, f in
                                                          zip(names, funcs, strict=True))),
                           strict=True))
        ok = all(results[n] == "ok" or results[n].startswith("degraded")
                 for n in checks.required)
        degraded = ok and any(v != "ok" for v in results.values())
        return JSONResponse({"status": "degraded" if degraded else "ok" if ok else "unavailable",
                             "service": service, "checks": results},
                            status_code=200 if ok else 503)

    @r.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def prom() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return r
