import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from common.settings import CommonSettings


class DemoSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore", populate_by_name=True)
    service_name = "demo"


def test_shared_endpoints_are_unprefixed_and_own_settings_prefixed(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("DATABASE_PREFIX", "x_")
    monkeypatch.setenv("DEMO_HEALTH_PORT", "9999")
    s = DemoSettings()
    assert s.kafka_common()["bootstrap_servers"] == ["k1:9092", "k2:9092"]
    assert s.database_url.endswith("/x_demo")
    assert s.health_port == 9999


def test_explicit_database_url_wins(monkeypatch):
    monkeypatch.setenv("DEMO_DATABASE_URL", "postgresql+psycopg://u@db:5432/queue")
    assert DemoSettings().database_url == "postgresql+psycopg://u@db:5432/queue"


def test_a_database_url_for_another_driver_fails_fast(monkeypatch):
    monkeypatch.setenv("DEMO_DATABASE_URL", "postgresql://u@db/queue")
    with pytest.raises(ValidationError, match="psycopg 3 driver"):
        DemoSettings()


def test_sasl_settings_reach_the_client(monkeypatch):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "svc")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "secret")
    kw = DemoSettings().kafka_common()
    assert kw["sasl_mechanism"] == "PLAIN" and kw["sasl_plain_username"] == "svc"
