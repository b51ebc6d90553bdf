"""nba wiring: settings, subscriptions, the precompute and metrics timers, and the
internal API (suggestions for the gateway)."""
import asyncio
from pathlib import Path

from fastapi import FastAPI
from pydantic_settings import SettingsConfigDict

from common import logs, topics
from common.consumer import subscribe
from common.runtime import Context, ServiceSpec
from common.settings import CommonSettings
from services.nba import api, handlers, metrics, store, suggest
from services.nba.cache import SuggestionCache

log = logs.get(__name__)


class NbaSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="NBA_", extra="ignore", populate_by_name=True)
    service_name = "nba"
    api_port: int = 8002
    health_port: int = 9104
    # Each request or loop uses one session at a time: a small pool keeps nba's share of a
    # shared PostgreSQL's connections small (the API and the worker each hold up to 2x this).
    db_pool_size: int = 4
    # Share of suggestions that may be a Thompson draw instead of the best-known action.
    explore_rate: float = 0.15
    cache_ttl_s: int = 600
    # A logged suggestion older than this is recomputed when re-cached (statistics moved).
    max_age_s: int = 3600
    top: int = 100  # tasks of each owner's queue kept precomputed
    precompute_tick_s: float = 0.5  # how often changed tasks are looked for
    precompute_sweep_s: float = 240.0  # every owner's first `top`, before their cache ends
    metrics_interval_s: float = 15.0


def policy_of(s: NbaSettings) -> suggest.Policy:
    return suggest.Policy(explore_rate=s.explore_rate, cache_ttl_s=s.cache_ttl_s,
                          max_age_s=s.max_age_s, top=s.top)


async def precompute(ctx: Context) -> None:
    """Changed tasks every tick; every owner's first `top` every sweep (and at start)."""
    s = ctx.settings
    cache, policy = SuggestionCache(s.redis_url, s.cache_ttl_s), policy_of(s)
    loop = asyncio.get_running_loop()
    next_sweep = loop.time()
    try:
        while True:
            try:
                while (await suggest.precompute_changed(ctx.sessions, ctx.outbox, cache, policy)
                       ) >= 1000:
                    pass
                if loop.time() >= next_sweep:
                    n = await suggest.precompute_tops(ctx.sessions, ctx.outbox, cache, policy)
                    log.info("nba_precomputed", tasks=n)
                    next_sweep = loop.time() + s.precompute_sweep_s
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database or Redis briefly away: next tick
                log.warning("nba_precompute_failed", error=exc)
            await asyncio.sleep(s.precompute_tick_s)
    finally:
        await cache.close()


async def acceptance_gauges(ctx: Context) -> None:
    """The acceptance rate (overall, by task type, by action) from the decision counts."""
    while True:
        try:
            async with ctx.sessions() as session:
                metrics.set_acceptance(await store.decision_counts(session))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("nba_metrics_failed", error=exc)
        await asyncio.sleep(ctx.settings.metrics_interval_s)


def setup_api(app: FastAPI) -> None:
    """The API process's Redis cache and policy."""
    s = app.state.ctx.settings
    app.state.nba_cache = SuggestionCache(s.redis_url, s.cache_ttl_s)
    app.state.nba_policy = policy_of(s)


SERVICE = ServiceSpec(
    name="nba",
    settings_cls=NbaSettings,
    metadata=store.metadata,
    versions=Path(__file__).parent / "migrations" / "versions",
    subscriptions=[subscribe(topics.TASK_EVENTS, handlers.HANDLERS),
                   subscribe(topics.PAYER_INTERACTIONS, handlers.INTERACTION_HANDLERS)],
    router=api.router,
    timers=[precompute, acceptance_gauges],
    api_port_default=8002,
    setup_api=setup_api,
)
