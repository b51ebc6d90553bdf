"""Intake wiring: settings, subscriptions and the HTTP API."""
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from common import topics
from common.consumer import subscribe
from common.runtime import ServiceSpec
from common.settings import CommonSettings
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
    subscriptions=[
        *(subscribe(t, {m: h for m, h in handlers.HANDLERS.items()
                        if topics.EVENT_TOPICS[m.__name__] == t})
          for t in sorted({topics.EVENT_TOPICS[m.__name__] for m in handlers.HANDLERS},
                          key=lambda t: t.name)),
        subscribe(topics.DIRECTORY, handlers.DIRECTORY_HANDLERS),
    ],
    router=api.router,
)
