"""Fixtures on real infrastructure: PostgreSQL, Redis and a Kafka-protocol broker.

Each test session gets its own database prefix (dropped at the end) and, unless
KAFKA_BOOTSTRAP_SERVERS is set, its own Tansu broker on a free port.
"""
from __future__ import annotations

import os
import uuid

import pytest

from common import localstack

SESSION_PREFIX = f"wqt_{uuid.uuid4().hex[:6]}_"


@pytest.fixture(scope="session")
def db_prefix():
    os.environ["DATABASE_PREFIX"] = SESSION_PREFIX
    yield SESSION_PREFIX
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        names = [r[0] for r in c.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (SESSION_PREFIX + "%",))]
        for n in names:
            c.execute(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)')


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    """Bootstrap address of a broker: the given one, or a fresh Tansu for this session."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    b = localstack.Broker(localstack.free_port(),
                          tmp_path_factory.mktemp("broker") / "broker.log").start()
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = b.bootstrap
    yield b.bootstrap
    b.stop()
    os.environ.pop("KAFKA_BOOTSTRAP_SERVERS", None)


def migrated_settings(spec, db_prefix: str, **overrides):
    """Settings for a service on this session's own database, created and migrated."""
    from common import db

    settings = spec.settings_cls(database_prefix=db_prefix, **overrides)
    db.migrate(settings.database_url, spec.versions)
    return settings


@pytest.fixture(scope="session")
def migrate(db_prefix):
    return lambda spec, **kw: migrated_settings(spec, db_prefix, **kw)
