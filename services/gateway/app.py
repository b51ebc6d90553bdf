"""Gateway wiring: settings, subscriptions and the HTTP API."""
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from common import topics
from common.consumer import subscribe
from common.runtime import ServiceSpec
from common.settings import CommonSettings
from services.gateway import api, directory, escalations, handlers, store, suggestions, web


class GatewaySettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)
    service_name = "gateway"
    api_port: int = 8000
    health_port: int = 9107
    # Sign the session tokens. The default suits a laptop only: set GATEWAY_JWT_SECRET.
    jwt_secret: str = "dev-only-change-me-0123456789abcdef"
    token_ttl_minutes: int = 8 * 60
    # nba's internal API for suggestions ("" turns them off); the queue waits at most this.
    nba_url: str = "http://127.0.0.1:8002"
    nba_timeout_s: float = 0.5


def setup_api(app) -> None:
    """The web app, and where nba answers."""
    s = app.state.ctx.settings
    suggestions.configure(s.nba_url, s.nba_timeout_s)
    web.setup(app)


SERVICE = ServiceSpec(
    name="gateway",
    settings_cls=GatewaySettings,
    metadata=store.metadata,
    versions=Path(__file__).parent / "migrations" / "versions",
    subscriptions=[subscribe(topics.TASK_EVENTS, handlers.HANDLERS),
                   subscribe(topics.SLA_ESCALATIONS, escalations.HANDLERS)],
    router=api.router,
    commands={"seed-users": (directory.configure, directory.run)},
    setup_api=setup_api,
)
