"""The consumer loop and the outbox relay on a real broker and a real PostgreSQL database:
idempotency, dead letters with readable reasons, bounded retries, and relay order."""
from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer

from common import db, events, kafka
from common.consumer import Consumer, Subscription, Transient
from common.events.generated import DenialPosted, TaskRouted
from common.outbox import OutboxRelay
from common.runtime import _psycopg_dsn
from common.settings import CommonSettings
from common.tests.test_events import denial
from common.topics import Topic

pytestmark = pytest.mark.integration

metadata = sa.MetaData()
outbox, processed = db.add_common_tables(metadata)
effect = sa.Table("effect", metadata, sa.Column("source_id", sa.Text, primary_key=True),
                  sa.Column("n", sa.Integer, nullable=False, server_default="1"))


class ConsumerTestSettings(CommonSettings):
    service_name = "consumer_test"


@pytest.fixture
async def env(broker, db_prefix):
    settings = ConsumerTestSettings(database_prefix=db_prefix)
    db.ensure_database(settings.database_url)
    engine = db.create_engine(settings.database_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    topic = Topic(f"test.consumer.{uuid.uuid4().hex[:8]}", 3, "source_id")
    await kafka.ensure_topics(settings, [(topic.name, 3), (topic.dlq, 1)])
    producer = kafka.producer(settings, "test")
    await producer.start()
    yield settings, engine, topic, producer
    await producer.stop()
    await engine.dispose()


attempts: dict[str, int] = {}


async def handler(batch, uow):
    for event in batch:
        await handle_one(event, uow)


async def handle_one(event, uow):
    sid = event.payload.source_id
    if sid.startswith("boom"):
        raise ValueError(f"cannot handle {sid}")
    if sid.startswith("flaky"):
        attempts[sid] = attempts.get(sid, 0) + 1
        if attempts[sid] < 3:
            raise Transient("payer endpoint briefly down")
    if sid.startswith("never"):
        raise Transient("always down")
    await uow.session.execute(sa.text(
        "INSERT INTO effect (source_id) VALUES (:s) "
        "ON CONFLICT (source_id) DO UPDATE SET n = effect.n + 1"), {"s": sid})
    await uow.emit(TaskRouted(task_id=uuid.uuid4(), queue="q", reason=sid), cause=event, key=sid)


async def run_until(engine, settings, topic, predicate, timeout=30.0):
    sessions = db.sessionmaker(engine)
    c = Consumer(service="consumer_test",
                 kafka=kafka.consumer(settings, topic.name, group_id=f"g-{topic.name}"),
                 sessions=sessions, outbox=outbox, processed=processed,
                 subscriptions=[Subscription(topic, {DenialPosted: handler})],
                 transient_retries=3)
    task = asyncio.create_task(c.run())
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await predicate():
            assert asyncio.get_running_loop().time() < deadline, "timed out"
            assert not task.done(), task.exception()
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def count(engine, table) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar()


async def send(producer, topic, env_or_bytes, key=b"k"):
    if isinstance(env_or_bytes, bytes):
        await producer.send_and_wait(topic.name, env_or_bytes, key=key)  # no headers at all
    else:
        await producer.send_and_wait(topic.name, events.encode(env_or_bytes), key=key,
                                     headers=env_or_bytes.headers)


async def test_redelivery_and_bad_input_change_nothing_and_the_loop_goes_on(env):
    settings, engine, topic, producer = env
    ok = events.envelope(denial(source_id="ok-1"), org_id="t", producer="test")
    await send(producer, topic, ok)
    await send(producer, topic, ok)  # the same event delivered twice
    await send(producer, topic, b"{\"claim\": \"not an avro event\"}")  # cannot be decoded
    await send(producer, topic, events.envelope(denial(source_id="boom-1"), org_id="t",
                                                producer="test"))  # handler raises
    await send(producer, topic, events.envelope(denial(source_id="ok-2"), org_id="t",
                                                producer="test"))

    async def done():
        return await count(engine, effect) == 2 and await count(engine, outbox) == 4

    await run_until(engine, settings, topic, done)
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(effect.c.n))).scalars().all() == [1, 1]
        rows = (await conn.execute(sa.select(outbox).order_by(outbox.c.id))).all()
    dlq = [r for r in rows if r.topic == topic.dlq]
    assert len(dlq) == 2
    reasons = [dict(r.headers)["dlq.reason"] for r in dlq]
    assert "not Avro single-object encoding" in reasons[0]
    # The handler's exception is named by its class: its text may quote payload values.
    assert reasons[1] == "ValueError" and "boom-1" not in str(dlq[1].headers)
    assert dlq[0].value == b"{\"claim\": \"not an avro event\"}"  # original bytes kept
    assert dict(dlq[0].headers)["dlq.stage"] == "decode"
    assert dict(dlq[1].headers)["event_type"] == "DenialPosted"  # original headers kept


async def test_a_failure_keeps_dead_letters_queued_before_it_in_the_same_poll(env):
    settings, engine, topic, producer = env
    await send(producer, topic, b"{\"claim\": \"garbage first\"}")
    await send(producer, topic, events.envelope(denial(source_id="boom-2"), org_id="t",
                                                producer="test"))

    async def done():
        return await count(engine, outbox) == 2

    await run_until(engine, settings, topic, done)
    async with engine.connect() as conn:
        stages = sorted(dict(r.headers)["dlq.stage"] for r in
                        (await conn.execute(sa.select(outbox.c.headers))).all())
    assert stages == ["decode", "handle"]


async def test_transient_errors_are_retried_then_dead_lettered(env):
    settings, engine, topic, producer = env
    await send(producer, topic, events.envelope(denial(source_id="flaky-1"), org_id="t",
                                                producer="test"))
    await send(producer, topic, events.envelope(denial(source_id="never-1"), org_id="t",
                                                producer="test"))
    await send(producer, topic, events.envelope(denial(source_id="ok-3"), org_id="t",
                                                producer="test"))

    async def done():
        return await count(engine, effect) == 2 and await count(engine, outbox) == 3

    await run_until(engine, settings, topic, done, timeout=60)
    assert attempts["flaky-1"] >= 3  # the whole batch is retried, so maybe more
    async with engine.connect() as conn:
        assert dict((await conn.execute(sa.select(effect.c.source_id, effect.c.n))).all()) == \
            {"flaky-1": 1, "ok-3": 1}  # ...but its effect is committed once
        dlq = (await conn.execute(sa.select(outbox).where(outbox.c.topic == topic.dlq))).all()
    assert len(dlq) == 1 and "gave up after 3 transient failures" in dict(dlq[0].headers)["dlq.reason"]


async def test_relay_publishes_in_commit_order_and_empties_the_outbox(env):
    settings, engine, topic, producer = env
    sessions = db.sessionmaker(engine)
    from common.uow import UnitOfWork

    for i in range(50):
        async with sessions() as s, s.begin():
            uow = UnitOfWork(s, producer="t", outbox=outbox)
            await uow.write_raw(topic.name, b"same-key", f"{i}".encode(), [("n", str(i).encode())])
            await uow.finish()
    relay = OutboxRelay(service="t", engine=engine, outbox=outbox, producer=producer,
                        listen_dsn=_psycopg_dsn(settings.database_url), batch_size=7)
    assert await relay.drain() == 50
    assert await count(engine, outbox) == 0
    consumer = AIOKafkaConsumer(topic.name, group_id=None, auto_offset_reset="earliest",
                                **settings.kafka_common())
    await consumer.start()
    try:
        seen: list[int] = []
        while len(seen) < 50:
            for msgs in (await consumer.getmany(timeout_ms=1000)).values():
                seen += [int(m.value) for m in msgs]
        assert seen == list(range(50))
    finally:
        await consumer.stop()


async def test_only_one_relay_publishes_at_a_time(env):
    settings, engine, topic, producer = env
    relay = OutboxRelay(service="t", engine=engine, outbox=outbox, producer=producer,
                        listen_dsn=_psycopg_dsn(settings.database_url))
    async with engine.begin() as conn:  # another replica holds the relay lock
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(727275)"))
        await conn.execute(sa.insert(outbox).values(topic=topic.name, key=b"k", value=b"v"))
        assert await relay.publish_once() == 0
    assert await relay.publish_once() == 1


async def test_polls_with_nothing_for_the_service_open_no_transaction_and_are_committed(env):
    """Events of types the service does not handle are skipped without a transaction;
    their offsets are committed once the topic is quiet."""
    from aiokafka import TopicPartition

    settings, engine, topic, producer = env
    for i in range(5):
        other = TaskRouted(task_id=uuid.uuid4(), queue="q", reason="not for this service")
        await send(producer, topic, events.envelope(other, org_id="o", producer="test"),
                   key=f"k{i}".encode())
    parts = [TopicPartition(topic.name, p) for p in range(3)]

    async def committed() -> bool:
        probe = AIOKafkaConsumer(group_id=f"g-{topic.name}", enable_auto_commit=False,
                                 **settings.kafka_common())
        await probe.start()
        try:
            return sum([await probe.committed(tp) or 0 for tp in parts]) == 5
        finally:
            await probe.stop()

    await run_until(engine, settings, topic, committed)
    assert await count(engine, processed) == 0 and await count(engine, outbox) == 0


async def test_each_outcome_is_counted_once_even_when_a_poll_is_redone(env):
    """A handler failure redoes the poll event by event; what the first pass counted is
    not counted again (the metrics read twice the truth before)."""
    from prometheus_client import REGISTRY

    settings, engine, topic, producer = env

    def value(name: str, **labels) -> float:
        return REGISTRY.get_sample_value(name, {"service": "consumer_test", "topic": topic.name,
                                                **labels}) or 0.0

    ok = events.envelope(denial(source_id="ok-m1"), org_id="t", producer="test")
    await send(producer, topic, ok)
    await send(producer, topic, ok)  # a duplicate
    await send(producer, topic, b"not an event")  # cannot be decoded
    await send(producer, topic, events.envelope(denial(source_id="boom-m"), org_id="t",
                                                producer="test"))  # the handler raises
    await send(producer, topic, events.envelope(denial(source_id="ok-m2"), org_id="t",
                                                producer="test"))

    async def done():
        return await count(engine, effect) == 2 and await count(engine, outbox) == 4

    await run_until(engine, settings, topic, done)
    consumed = "wq_events_consumed_total"
    assert value(consumed, event_type="DenialPosted", outcome="handled") == 2
    assert value(consumed, event_type="DenialPosted", outcome="duplicate") == 1
    assert value(consumed, event_type="DenialPosted", outcome="dead_lettered") == 1
    assert value(consumed, event_type="?", outcome="dead_lettered") == 1
    assert value("wq_dead_letters_total", stage="decode") == 1
    assert value("wq_dead_letters_total", stage="handle") == 1


async def test_an_event_on_a_topic_that_does_not_carry_it_is_dead_lettered(env):
    """A PriorAuthDecided on the denials topic is no denial: it lands on the DLQ with the
    reason, instead of vanishing as 'ignored'."""
    from common import topics
    from common.events.generated import PriorAuthDecided

    settings, engine, _, producer = env
    wrong = events.envelope(PriorAuthDecided(
        source_id="PA-1", auth_request_id="A-1", decision="denied", payer_id="aetna",
        payer_name="Aetna", payer_class="commercial", patient_id="P-1",
        service_description="MRI"), org_id="t", producer="test")
    right = events.envelope(denial(source_id="ok-topic"), org_id="t", producer="test")
    denials = topics.UPSTREAM_DENIALS
    await kafka.ensure_topics(settings, [(denials.name, denials.partitions), (denials.dlq, 1)])
    for env_ in (wrong, right):
        await producer.send_and_wait(denials.name, events.encode(env_), key=b"k",
                                     headers=env_.headers)
    sessions = db.sessionmaker(engine)
    c = Consumer(service="consumer_test",
                 kafka=kafka.consumer(settings, denials.name, group_id=f"g-{uuid.uuid4().hex}"),
                 sessions=sessions, outbox=outbox, processed=processed,
                 subscriptions=[Subscription(denials, {DenialPosted: handler})])
    task = asyncio.create_task(c.run())
    try:
        for _ in range(300):
            async with engine.connect() as conn:
                rows = (await conn.execute(sa.select(outbox).where(
                    outbox.c.topic == denials.dlq))).all()
                handled = (await conn.execute(sa.select(effect.c.source_id))).scalars().all()
            if rows and "ok-topic" in handled:
                break
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    [row] = [r for r in rows if dict(r.headers)["event_id"] == str(wrong.event_id)]
    headers = dict(row.headers)
    assert headers["dlq.stage"] == "topic"
    assert headers["dlq.reason"] == ("PriorAuthDecided does not travel on upstream.denials.v1 "
                                     "(its topic is upstream.prior_auths.v1)")
