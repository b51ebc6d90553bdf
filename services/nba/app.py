"""nba wiring: settings and subscriptions (health server only; no public API)."""
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from common import topics
from common.consumer import subscribe
from common.runtime import ServiceSpec
from common.settings import CommonSettings
from services.nba import store


class NbaSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="NBA_", extra="ignore", populate_by_name=True)
    service_name = "nba"
    health_port: int = 9104


SERVICE = ServiceSpec(
    name="nba",
    settings_cls=NbaSettings,
    metadata=store.metadata,
    versions=Path(__file__).parent / "migrations" / "versions",
    subscriptions=[subscribe(topics.TASK_EVENTS, {})],
)
