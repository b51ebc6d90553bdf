"""aiokafka clients built from settings, topic creation, and keeping topics declared."""
from __future__ import annotations

import asyncio
import functools

import aiokafka.client
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.protocol.metadata import MetadataRequest

from common import logs, metrics, timers, topics
from common.settings import CommonSettings

log = logs.get(__name__)

# Topics are declared (common.topics) with their partitions and created by us, never by a
# broker's auto-creation: after a restart of a broker that keeps nothing, a client's
# metadata request would otherwise create each topic with the broker's default partition
# count (4 on Tansu) before anyone could declare it. aiokafka always asks for
# auto-creation and has no option for it, so its metadata requests say no here; a worker
# declares missing topics again (``keep_topics``).
aiokafka.client.MetadataRequest = functools.partial(MetadataRequest,
                                                    allow_auto_topic_creation=False)


def producer(settings: CommonSettings, client_id: str) -> AIOKafkaProducer:
    # No idempotent producer or transactions: the local broker lacks them, and the outbox
    # plus idempotent consumers give the exactly-once effect anyway (ARCHITECTURE.md).
    return AIOKafkaProducer(
        client_id=client_id, acks="all", linger_ms=settings.kafka_linger_ms,
        max_batch_size=min(1 << 20, settings.kafka_max_message_bytes),
        max_request_size=settings.kafka_max_message_bytes, request_timeout_ms=15000,
        metadata_max_age_ms=settings.kafka_metadata_max_age_ms, **settings.kafka_common(),
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
        metadata_max_age_ms=settings.kafka_metadata_max_age_ms,
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


async def keep_topics(settings: CommonSettings, every_s: float = 5.0) -> None:
    """Declare missing topics again while the worker runs (a broker that lost them on a
    restart gets them back with their declared partitions), and keep ``wq_broker_up``."""
    async def declare() -> None:
        created = await asyncio.wait_for(ensure_topics(settings), every_s * 2)
        metrics.BROKER_UP.set(1)
        if created:
            log.warning("topics_declared_again", topics=len(created))

    def away(exc: Exception) -> None:
        metrics.BROKER_UP.set(0)
        if logs.every("keep-topics"):
            log.warning("broker_unavailable" if isinstance(exc, (KafkaError, OSError, TimeoutError))
                        else "keep_topics_failed", error=exc)

    await timers.every(every_s, declare, name="keep_topics", on_error=away)


async def ping(settings: CommonSettings, timeout: float = 2.0) -> None:
    """Raise unless a bootstrap broker answers a metadata request."""
    from aiokafka.client import AIOKafkaClient

    client = AIOKafkaClient(**settings.kafka_common(), request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
    finally:
        await client.close()
