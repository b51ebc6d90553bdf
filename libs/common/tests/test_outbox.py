"""The relay never blocks on one event: what the broker refuses for good is set aside with
its reason, the events behind it publish in order, and the backlog is exported."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer
from prometheus_client import REGISTRY

from common import kafka, metrics
from common.outbox import OutboxRelay, outbox_backlog
from common.runtime import _psycopg_dsn
from common.tests.test_consumer import count, env, outbox  # noqa: F401 (the fixture)
from common.uow import UnitOfWork

pytestmark = pytest.mark.integration

dead = outbox.metadata.tables["outbox_dead"]


async def _queue(engine, topic: str, rows: list[tuple[bytes, bytes]]) -> None:
    from common import db

    async with db.sessionmaker(engine)() as s, s.begin():
        uow = UnitOfWork(s, producer="t", outbox=outbox)
        for key, value in rows:
            await uow.write_raw(topic, key, value, [("event_type", b"TaskCreated"),
                                                    ("event_id", key)])
        await uow.finish()


async def _read(settings, topic: str, n: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, group_id=None, auto_offset_reset="earliest",
                                **settings.kafka_common())
    await consumer.start()
    try:
        seen: list[bytes] = []
        for _ in range(30):
            for msgs in (await consumer.getmany(timeout_ms=500)).values():
                seen += [m.value for m in msgs]
            if len(seen) >= n:
                break
        return seen
    finally:
        await consumer.stop()


def _dead_count(service: str, topic: str) -> float:
    return REGISTRY.get_sample_value("wq_outbox_dead_letters_total",
                                     {"service": service, "topic": topic}) or 0.0


@pytest.mark.parametrize("relay_limit", [
    1_000_000,   # the relay knows the broker's limit: set aside before sending
    20_000_000,  # it does not: the producer refuses (MessageSizeTooLargeError), for good
])
async def test_an_event_too_large_is_set_aside_and_those_behind_it_publish(env, relay_limit):  # noqa: F811
    settings, engine, topic, producer = env
    service = f"relay-{relay_limit}"
    await _queue(engine, topic.name, [(b"k", b"first"), (b"k", b"x" * 2_000_000),
                                      (b"k", b"second"), (b"other", b"third")])
    before = _dead_count(service, topic.name)
    relay = OutboxRelay(service=service, engine=engine, outbox=outbox, producer=producer,
                        listen_dsn=_psycopg_dsn(settings.database_url),
                        max_message_bytes=relay_limit)
    assert await relay.drain() == 4
    assert await count(engine, outbox) == 0
    seen = await _read(settings, topic.name, 3)
    assert sorted(seen) == [b"first", b"second", b"third"]
    assert seen.index(b"first") < seen.index(b"second")  # one key: one partition, in order
    async with engine.connect() as conn:
        [row] = (await conn.execute(sa.select(dead))).all()
    assert row.size > 2_000_000 and len(row.value) == 2_000_000 and row.topic == topic.name
    assert "MessageSizeTooLarge" in row.reason
    assert _dead_count(service, topic.name) == before + 1


async def test_a_broker_that_is_away_keeps_everything_in_order(env):  # noqa: F811
    settings, engine, topic, _ = env
    await _queue(engine, topic.name, [(b"k", b"a"), (b"k", b"b")])
    away = type(settings)(database_prefix=settings.database_prefix,
                          kafka_bootstrap_servers="127.0.0.1:1")
    producer = kafka.producer(away, "away")
    relay = OutboxRelay(service="away", engine=engine, outbox=outbox, producer=producer,
                        listen_dsn=_psycopg_dsn(settings.database_url))
    with pytest.raises(Exception):  # noqa: B017 (whichever connection error aiokafka raises)
        await producer.start()
        await relay.publish_once()
    assert await count(engine, outbox) == 2 and await count(engine, dead) == 0
    pending, age = await outbox_backlog(engine, outbox)
    assert pending == 2 and age >= 0
    await relay.observe()
    assert metrics.OUTBOX_PENDING.labels("away")._value.get() == 2
