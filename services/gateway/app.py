"""Gateway wiring: settings, subscriptions, commands, and the HTTP app (the REST, FHIR and
web routers mounted side by side)."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from common import topics
from common.consumer import subscribe
from common.runtime import ServiceSpec
from common.settings import CommonSettings, require_secret
from services.gateway import rest, store, web
from services.gateway.directory import seed
from services.gateway.fhir import routes as fhir_routes
from services.gateway.interactions import service as interactions
from services.gateway.rest import errors as rest_errors
from services.gateway.signin_limits import SignInLimiter
from services.gateway.tasks import escalations, handlers, suggestions

DEV_JWT_SECRET = "dev-only-change-me-0123456789abcdef"


class GatewaySettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)
    service_name = "gateway"
    api_port: int = 8000
    health_port: int = 9107
    # Sign the session tokens. The default suits a laptop only: outside development mode
    # (WQ_ENV) the gateway refuses to start with it; set GATEWAY_JWT_SECRET.
    jwt_secret: str = DEV_JWT_SECRET
    token_ttl_minutes: int = 8 * 60
    # Sign-in attempts that fail, counted in Redis (shared by every replica) per account
    # and per client address in a fixed window; past either limit: 429 with Retry-After.
    signin_window_s: int = 15 * 60
    signin_max_failures_per_account: int = 10
    signin_max_failures_per_address: int = 50
    # nba's internal API for suggestions ("" turns them off); the queue waits at most this.
    nba_url: str = "http://127.0.0.1:8002"
    nba_timeout_s: float = 0.5

    @model_validator(mode="after")
    def _no_development_jwt_secret(self) -> GatewaySettings:
        require_secret(self, value=self.jwt_secret, default=DEV_JWT_SECRET,
                       variable="GATEWAY_JWT_SECRET")
        return self

    @property
    def secure_cookies(self) -> bool:
        """Session cookies only over HTTPS, except on a developer's plain-HTTP laptop."""
        return self.environment != "development"


def router() -> APIRouter:
    """Gateway: the unified work queue, the task record and the FHIR Task API."""
    top = APIRouter()
    top.include_router(rest.router())
    top.include_router(fhir_routes.router())
    top.include_router(web.router())
    return top


def setup_api(app) -> None:
    """REST's answers to business errors, the web app, the sign-in limits, and where nba
    answers."""
    s = app.state.ctx.settings
    suggestions.configure(s.nba_url, s.nba_timeout_s, token=s.service_token)
    app.state.signin_limiter = SignInLimiter(
        s.redis_url, prefix=f"{s.database_prefix}gateway:signin:", window_s=s.signin_window_s,
        per_account=s.signin_max_failures_per_account,
        per_address=s.signin_max_failures_per_address)
    rest_errors.install(app)
    web.setup(app)


SERVICE = ServiceSpec(
    name="gateway",
    settings_cls=GatewaySettings,
    metadata=store.metadata,
    versions=Path(__file__).parent / "migrations" / "versions",
    subscriptions=[subscribe(topics.TASK_EVENTS, handlers.HANDLERS),
                   subscribe(topics.SLA_ESCALATIONS, escalations.HANDLERS),
                   subscribe(topics.PAYER_INTERACTIONS, interactions.HANDLERS)],
    router=router,
    commands={"seed-users": (seed.configure, seed.run)},
    setup_api=setup_api,
)
