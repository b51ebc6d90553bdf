"""Settings shared by every service; each service subclasses with its own env prefix.

Endpoints shared by the whole stack (Kafka, PostgreSQL server, Redis) are read without a
prefix (``KAFKA_BOOTSTRAP_SERVERS``); a service's own settings carry its prefix
(``INTAKE_DATABASE_URL``, ``GATEWAY_API_PORT``).
"""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _shared(name: str, default):
    return Field(default=default, validation_alias=AliasChoices(name, name.lower()))


# The development values of the stack's secrets: they let `make run` and the tests work
# with nothing set, and no process starts with one of them outside development mode.
DEV_SERVICE_TOKEN = "dev-only-service-token-change-me"
MIN_SECRET_LENGTH = 32


class InsecureSettings(ValueError):
    """A secret left at its development value (or too short) outside development mode."""


def require_secret(settings: CommonSettings, *, value: str, default: str, variable: str) -> None:
    """Outside development mode, refuse a secret left at its default or shorter than 32."""
    if settings.environment == "development":
        return
    if value == default:
        raise InsecureSettings(
            f"{variable} is still the documented development value: set {variable} to a "
            f"random secret of at least {MIN_SECRET_LENGTH} characters (WQ_ENV is "
            f"'{settings.environment}')")
    if len(value) < MIN_SECRET_LENGTH:
        raise InsecureSettings(f"{variable} must be at least {MIN_SECRET_LENGTH} characters "
                               f"outside development mode (WQ_ENV is '{settings.environment}')")


class CommonSettings(BaseSettings):
    """Database, Kafka and Redis endpoints, and the client tuning for the local broker."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)
    service_name: ClassVar[str] = "common"

    # -- where this runs: anything but development refuses the development secrets --
    environment: Literal["development", "staging", "production"] = _shared(
        "WQ_ENV", "development")
    # The one credential services present to each other's internal APIs (X-Service-Token).
    service_token: str = _shared("SERVICE_TOKEN", DEV_SERVICE_TOKEN)
    # The interface the API and the health server listen on: loopback unless told
    # (a container or a pod sets BIND_HOST=0.0.0.0); <SVC>_API_HOST overrides it per API.
    bind_host: str = _shared("BIND_HOST", "127.0.0.1")
    api_host: str | None = None

    # -- Kafka (one place for client tuning; defaults suit the local Tansu broker) --
    kafka_bootstrap_servers: str = _shared("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    kafka_security_protocol: str = _shared("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    kafka_sasl_mechanism: str | None = _shared("KAFKA_SASL_MECHANISM", None)
    kafka_sasl_username: str | None = _shared("KAFKA_SASL_USERNAME", None)
    kafka_sasl_password: str | None = _shared("KAFKA_SASL_PASSWORD", None)
    # Measured on Tansu (bench notes in README): 10 ms costs ~18% CPU per idle consumer
    # (broker + client) for p95 9 ms a hop; 100 ms costs ~4% for p95 30 ms. With seven
    # consumers on two cores, 100 ms. Real Kafka answers a waiting fetch when data arrives.
    kafka_fetch_max_wait_ms: int = _shared("KAFKA_FETCH_MAX_WAIT_MS", 100)
    # Group timings from KAFKA.md: a join waits half the session timeout.
    kafka_session_timeout_ms: int = _shared("KAFKA_SESSION_TIMEOUT_MS", 6000)
    kafka_heartbeat_interval_ms: int = _shared("KAFKA_HEARTBEAT_INTERVAL_MS", 1000)
    kafka_rebalance_timeout_ms: int = _shared("KAFKA_REBALANCE_TIMEOUT_MS", 10000)
    kafka_max_poll_records: int = _shared("KAFKA_MAX_POLL_RECORDS", 500)
    kafka_linger_ms: int = _shared("KAFKA_LINGER_MS", 2)
    kafka_replication_factor: int = _shared("KAFKA_REPLICATION_FACTOR", 1)
    # The broker's largest message (Kafka's message.max.bytes, ~1 MB by default): the
    # producer refuses bigger ones itself, and the outbox dead-letters them instead of
    # retrying an event that can never publish.
    kafka_max_message_bytes: int = _shared("KAFKA_MAX_MESSAGE_BYTES", 1_000_000)
    # How soon a client sees a topic that was (re)created: a consumer subscribed to a topic
    # a restarted broker lost resumes within this.
    kafka_metadata_max_age_ms: int = _shared("KAFKA_METADATA_MAX_AGE_MS", 10_000)

    # -- PostgreSQL: one database per service on this server unless <SVC>_DATABASE_URL says otherwise --
    postgres_server_url: str = _shared(
        "POSTGRES_SERVER_URL", "postgresql+psycopg://postgres@127.0.0.1:5432"
    )
    database_prefix: str = _shared("DATABASE_PREFIX", "wq_")
    database_url: str | None = None
    db_pool_size: int = 10

    redis_url: str = _shared("REDIS_URL", "redis://127.0.0.1:6379/0")

    log_level: str = _shared("LOG_LEVEL", "INFO")
    log_json: bool = _shared("LOG_JSON", True)

    # -- HTTP APIs --
    max_body_bytes: int = 10 * 1024 * 1024  # a larger request body is refused with 413

    # -- worker process --
    health_port: int = 0  # 0: no health server (tests); set per service
    outbox_batch_size: int = 1000
    outbox_poll_interval_s: float = 1.0  # fallback when no NOTIFY arrives
    # Readiness turns red when the oldest outbox event has waited this long although the
    # broker answers (the relay is not running, or cannot publish).
    outbox_stuck_after_s: float = 60.0
    transient_retries: int = 5

    @property
    def api_bind_host(self) -> str:
        return self.api_host or self.bind_host

    @model_validator(mode="after")
    def _no_development_secrets(self) -> CommonSettings:
        require_secret(self, value=self.service_token, default=DEV_SERVICE_TOKEN,
                       variable="SERVICE_TOKEN")
        return self

    @model_validator(mode="after")
    def _derive_database_url(self) -> CommonSettings:
        if not self.database_url:
            base = self.postgres_server_url.rstrip("/")
            self.database_url = f"{base}/{self.database_prefix}{self.service_name}"
        if not self.database_url.startswith("postgresql+psycopg://"):
            raise ValueError(
                f"{self.service_name}: database_url must use the psycopg 3 driver "
                f"(postgresql+psycopg://...), got {self.database_url.split('://')[0]}://"
            )
        return self

    def kafka_common(self) -> dict:
        """Keyword arguments shared by every aiokafka client."""
        kw: dict = {
            "bootstrap_servers": self.kafka_bootstrap_servers.split(","),
            "security_protocol": self.kafka_security_protocol,
        }
        if self.kafka_sasl_mechanism:
            kw.update(
                sasl_mechanism=self.kafka_sasl_mechanism,
                sasl_plain_username=self.kafka_sasl_username,
                sasl_plain_password=self.kafka_sasl_password,
            )
        if self.kafka_security_protocol in ("SSL", "SASL_SSL"):
            from aiokafka.helpers import create_ssl_context

            kw["ssl_context"] = create_ssl_context()
        return kw
