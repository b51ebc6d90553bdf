"""payer_comms wiring: settings and subscriptions (health server only; no public API)."""
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from common import topics
from common.consumer import subscribe
from common.runtime import ServiceSpec
from common.settings import CommonSettings
from services.payer_comms import store


class PayerCommsSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="PAYER_COMMS_", extra="ignore", populate_by_name=True)
    service_name = "payer_comms"
    health_port: int = 9105


SERVICE = ServiceSpec(
    name="payer_comms",
    settings_cls=PayerCommsSettings,
    metadata=store.metadata,
    versions=Path(__file__).parent / "migrations" / "versions",
    subscriptions=[subscribe(topics.ALERT_REQUESTS, {}), subscribe(topics.TASK_EVENTS, {})],
)
