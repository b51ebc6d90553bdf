"""billing wiring: settings (health server only; no public API). It subscribes to
nothing yet: its CCM/PCM work (TaskTimeLogged, the patient roster) lands with its issue."""
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from common.runtime import ServiceSpec
from common.settings import CommonSettings
from services.billing import store


class BillingSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore", populate_by_name=True)
    service_name = "billing"
    health_port: int = 9106


SERVICE = ServiceSpec(
    name="billing",
    settings_cls=BillingSettings,
    metadata=store.metadata,
    versions=Path(__file__).parent / "migrations" / "versions",
)
