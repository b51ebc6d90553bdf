"""Intake wiring: settings, subscriptions and the HTTP API."""
from pathlib import Path

from common import topics
from common.consumer import subscribe
from common.runtime import ServiceSpec
from common.settings import CommonSettings
from pydantic_settings import SettingsConfigDict

from services.intake import api, handlers, store


class IntakeSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", populate_by_name=True)
    service_name = "intake"
    api_port: int = 8001
    health_port: int = 9101


SERVICE = ServiceSpec(
    name="intake",
    settings_cls=IntakeSettings,
    metadata=store.metadata,
    versions=Path(__file__).parent / "migrations" / "versions",
    subscriptions=[subscribe(topics.UPSTREAM_DENIALS, handlers.HANDLERS)],
    router=api.router,
)
