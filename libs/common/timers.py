"""One way to run periodic work in a worker: ``every(interval, work, name=...)`` runs
``work`` until cancelled. An error is logged (its class and database facts only, never a
value: ``common.logs`` renders it) and counted in ``wq_timer_errors_total{timer}``; the
next round is the retry, so a database or broker briefly away only delays the work. With
``again``, a round that left work behind (``again(result)`` is true) runs the next one at
once instead of sleeping."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from common import logs, metrics

log = logs.get(__name__)


async def every(interval_s: float, work: Callable[[], Awaitable[Any]], *, name: str,
                first: Literal["now", "after"] = "now",
                again: Callable[[Any], bool] | None = None,
                on_error: Callable[[Exception], None] | None = None,
                **log_fields: Any) -> None:
    """Run ``work`` every ``interval_s`` seconds until cancelled (``first``: at once, or
    after one interval). ``on_error`` replaces the default warning ``<name>_failed``."""
    if first == "after":
        await asyncio.sleep(interval_s)
    while True:
        result = None
        try:
            result = await work()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            metrics.TIMER_ERRORS.labels(name).inc()
            if on_error is not None:
                on_error(exc)
            else:
                log.warning(f"{name}_failed", error=exc, **log_fields)
            result = None
        if again is not None and result is not None and again(result):
            await asyncio.sleep(0)  # let others run between back-to-back rounds
            continue
        await asyncio.sleep(interval_s)
