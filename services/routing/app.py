"""Routing wiring: settings and subscriptions (no HTTP API beyond health)."""
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from common import topics
from common.consumer import subscribe
from common.events.generated import TaskCreated
from common.runtime import ServiceSpec
from common.settings import CommonSettings
from services.routing import handlers, store


class RoutingSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="ROUTING_", extra="ignore", populate_by_name=True)
    service_name = "routing"
    health_port: int = 9102
    offer_sweep_s: float = 1.0  # how often expired offers move on


SERVICE = ServiceSpec(
    name="routing",
    settings_cls=RoutingSettings,
    metadata=store.metadata,
    versions=Path(__file__).parent / "migrations" / "versions",
    # A task is routed once (routed_task is keyed by task): a redelivered TaskCreated
    # finds its decision, so it needs no entry in the event ledger.
    subscriptions=[subscribe(topics.TASK_EVENTS, handlers.TASK_HANDLERS,
                             own_ledger=(TaskCreated,)),
                   subscribe(topics.DIRECTORY, handlers.DIRECTORY_HANDLERS)],
    timers=[handlers.expire_offers],
)
