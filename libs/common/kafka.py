"""aiokafka clients built from settings, and topic creation."""
from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from common import logs, topics
from common.settings import CommonSettings

log = logs.get(__name__)


def producer(settings: CommonSettings, client_id: str) -> AIOKafkaProducer:
    # No idempotent producer or transactions: the local broker lacks them, and the outbox
    # plus idempotent consumers give the exactly-once effect anyway (ARCHITECTURE.md).
    return AIOKafkaProducer(
        client_id=client_id, acks="all", linger_ms=settings.kafka_linger_ms,
        max_batch_size=1 << 20, request_timeout_ms=15000, **settings.kafka_common(),
    )


def consumer(settings: CommonSettings, *topic_names: str, group_id: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topic_names,
        group_id=group_id,
        client_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        rebalance_timeout_ms=settings.kafka_rebalance_timeout_ms,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        max_poll_records=settings.kafka_max_poll_records,
        **settings.kafka_common(),
    )


async def ensure_topics(settings: CommonSettings, declared=None) -> list[str]:
    """Create every declared topic and its dead-letter twin; return the ones created."""
    declared = declared if declared is not None else topics.all_topic_names()
    admin = AIOKafkaAdminClient(client_id="wq-admin", **settings.kafka_common())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(name, num_partitions=n,
                            replication_factor=settings.kafka_replication_factor)
                   for name, n in declared if name not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another process won the race
            log.info("topics_created", topics=[t.name for t in missing])
        return [t.name for t in missing]
    finally:
        await admin.close()


async def ping(settings: CommonSettings, timeout: float = 2.0) -> None:
    """Raise unless a bootstrap broker answers a metadata request."""
    from aiokafka.client import AIOKafkaClient

    client = AIOKafkaClient(**settings.kafka_common(), request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
    finally:
        await client.close()
