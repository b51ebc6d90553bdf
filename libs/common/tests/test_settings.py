import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from common.settings import DEV_SERVICE_TOKEN, CommonSettings


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


def test_development_mode_is_the_default_and_takes_the_development_secrets(monkeypatch):
    monkeypatch.delenv("WQ_ENV", raising=False)
    monkeypatch.delenv("SERVICE_TOKEN", raising=False)
    s = DemoSettings()
    assert s.environment == "development" and s.service_token == DEV_SERVICE_TOKEN
    assert s.api_bind_host == "127.0.0.1" and s.bind_host == "127.0.0.1"


@pytest.mark.parametrize("env", ["production", "staging"])
def test_outside_development_the_default_service_token_is_refused_by_name(monkeypatch, env):
    monkeypatch.setenv("WQ_ENV", env)
    monkeypatch.delenv("SERVICE_TOKEN", raising=False)
    with pytest.raises(ValidationError, match="SERVICE_TOKEN is still the documented "
                                              "development value: set SERVICE_TOKEN"):
        DemoSettings()
    monkeypatch.setenv("SERVICE_TOKEN", "short")
    with pytest.raises(ValidationError, match="SERVICE_TOKEN must be at least 32 characters"):
        DemoSettings()
    monkeypatch.setenv("SERVICE_TOKEN", "s" * 40)
    assert DemoSettings().service_token == "s" * 40


def test_an_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("WQ_ENV", "prod")
    with pytest.raises(ValidationError, match="WQ_ENV") as exc:
        DemoSettings()
    assert "'development', 'staging' or 'production'" in str(exc.value)


def test_the_gateway_refuses_the_default_jwt_key_outside_development(monkeypatch):
    from services.gateway.app import DEV_JWT_SECRET, GatewaySettings

    monkeypatch.setenv("WQ_ENV", "production")
    monkeypatch.setenv("SERVICE_TOKEN", "s" * 40)
    monkeypatch.delenv("GATEWAY_JWT_SECRET", raising=False)
    with pytest.raises(ValidationError, match="GATEWAY_JWT_SECRET is still the documented "
                                              "development value"):
        GatewaySettings()
    monkeypatch.setenv("GATEWAY_JWT_SECRET", "j" * 40)
    s = GatewaySettings()
    assert s.jwt_secret != DEV_JWT_SECRET and s.secure_cookies is True
    monkeypatch.setenv("WQ_ENV", "development")
    monkeypatch.delenv("GATEWAY_JWT_SECRET")
    assert GatewaySettings().secure_cookies is False


def test_bind_hosts_come_from_settings(monkeypatch):
    monkeypatch.setenv("BIND_HOST", "0.0.0.0")
    assert DemoSettings().api_bind_host == "0.0.0.0"
    monkeypatch.setenv("DEMO_API_HOST", "10.1.2.3")
    assert (DemoSettings().api_bind_host, DemoSettings().bind_host) == ("10.1.2.3", "0.0.0.0")
