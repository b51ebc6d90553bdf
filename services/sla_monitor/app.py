"""sla_monitor wiring: settings and subscriptions (health server only; no public API)."""
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from common import topics
from common.consumer import subscribe
from common.runtime import ServiceSpec
from common.settings import CommonSettings
from services.sla_monitor import handlers, store


class SlaMonitorSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="SLA_MONITOR_", extra="ignore", populate_by_name=True)
    service_name = "sla_monitor"
    health_port: int = 9103


SERVICE = ServiceSpec(
    name="sla_monitor",
    settings_cls=SlaMonitorSettings,
    metadata=store.metadata,
    versions=Path(__file__).parent / "migrations" / "versions",
    subscriptions=[subscribe(topics.TASK_EVENTS, handlers.HANDLERS)],
)
