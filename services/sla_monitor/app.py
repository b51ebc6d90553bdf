"""sla_monitor wiring: settings, subscriptions and the escalation timers (health server
only; no public API)."""
import asyncio
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from common import logs, timers, topics
from common.consumer import subscribe
from common.runtime import Context, ServiceSpec
from common.settings import CommonSettings
from services.sla_monitor import clock, handlers, store

log = logs.get(__name__)


class SlaMonitorSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="SLA_MONITOR_", extra="ignore", populate_by_name=True)
    service_name = "sla_monitor"
    health_port: int = 9103
    # The full sweep: the guarantee (no escalation is later than this).
    sweep_interval_s: float = 900.0
    # The precise timer: how often due rungs are looked for (one indexed query); 0: off.
    tick_s: float = 1.0
    # Clocks fired per transaction (one ladder row, clock update and events each).
    sweep_batch: int = 1000
    # A file holding the clock's offset in seconds (tests, demos); unset: real time.
    clock_file: str | None = None


async def escalate_all_due(ctx: Context, batch: int) -> int:
    """Fire every due rung, a batch per transaction; return how many clocks moved."""
    total = 0
    while True:
        async with ctx.unit_of_work() as uow:
            n = await handlers.escalate_due(uow, clock.CLOCK.now(), batch)
        total += n
        if n < batch:
            return total


async def _every(ctx: Context, interval: float, name: str) -> None:
    async def sweep() -> None:
        n = await escalate_all_due(ctx, ctx.settings.sweep_batch)
        if n:
            log.info("sla_escalated", clocks=n, by=name)

    # the database briefly away: the next round catches up
    await timers.every(interval, sweep, name="sla_sweep", by=name)


async def sla_timers(ctx: Context) -> None:
    """The sweep (every sweep_interval_s) and the precise timer (every tick_s)."""
    clock.use(ctx.settings.clock_file)
    loops = [_every(ctx, ctx.settings.sweep_interval_s, "sweep")]
    if ctx.settings.tick_s > 0:
        loops.append(_every(ctx, ctx.settings.tick_s, "timer"))
    await asyncio.gather(*loops)


SERVICE = ServiceSpec(
    name="sla_monitor",
    settings_cls=SlaMonitorSettings,
    metadata=store.metadata,
    versions=Path(__file__).parent / "migrations" / "versions",
    subscriptions=[subscribe(topics.TASK_EVENTS, handlers.HANDLERS),
                   subscribe(topics.DIRECTORY, handlers.DIRECTORY_HANDLERS)],
    timers=[sla_timers],
)
