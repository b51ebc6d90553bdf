"""The one consumer loop every service uses: ``subscribe`` declares, ``Consumer`` runs.

Per partition batch, one database transaction; per event, a savepoint holding the
processed-event row and the handler's effect (and the outbox rows it emits). Offsets are
committed only after the transaction, so a crash redelivers and the ledger turns the
redelivery into a no-op. What cannot be decoded or handled goes to ``<topic>.dlq`` through
the outbox, with the reason, the original bytes and headers; the loop goes on.
"""
from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import async_sessionmaker

from common import events, logs, metrics
from common.events import DecodeError, Envelope, utcnow
from common.topics import Topic
from common.uow import UnitOfWork

log = logs.get(__name__)
Handler = Callable[[Envelope, UnitOfWork], Awaitable[Any]]


@dataclass(frozen=True)
class Subscription:
    topic: Topic
    handlers: dict[type[BaseModel], Handler] = field(default_factory=dict)


def subscribe(topic: Topic, handlers: dict[type[BaseModel], Handler]) -> Subscription:
    """Declare which payload types of a topic this service handles (others are skipped)."""
    for model in handlers:
        et = events.REGISTRY.type_of(model)
        if et.topic is not None and et.topic != topic:
            raise ValueError(f"{et.name} travels on {et.topic.name}, not {topic.name}")
    return Subscription(topic, dict(handlers))


class Transient(Exception):
    """Raised by a handler for a failure worth retrying (a peer briefly unavailable)."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, Transient | OperationalError | TimeoutError | ConnectionError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        code = getattr(getattr(exc, "orig", None), "sqlstate", None)
        return code in ("40001", "40P01", "55P03")  # serialization, deadlock, lock timeout
    return False


class _Retry(Exception):
    def __init__(self, index: int, cause: BaseException) -> None:
        self.index, self.cause = index, cause


def _header(msg: ConsumerRecord, name: str) -> str | None:
    for k, v in msg.headers or ():
        if k == name:
            return v.decode("utf-8", "replace")
    return None


async def mark_processed(session, processed: sa.Table, env: Envelope, topic: str,
                         outcome: str = "handled") -> bool:
    """Record the event as processed; False when it already was (a redelivery)."""
    row = (await session.execute(
        pg_insert(processed)
        .values(event_id=env.event_id, event_type=env.event_type, topic=topic, outcome=outcome)
        .on_conflict_do_nothing()
        .returning(processed.c.event_id))).first()
    return row is not None


async def handle_now(*, service: str, sessions: async_sessionmaker, outbox: sa.Table,
                     processed: sa.Table, env: Envelope, handler: Handler,
                     via: str = "http") -> tuple[bool, Any]:
    """Run a handler for an event that arrived by HTTP, exactly as the consumer would:
    one transaction, idempotent on event_id. Returns (fresh, handler result)."""
    async with sessions() as session, session.begin():
        if not await mark_processed(session, processed, env, via):
            return False, None
        uow = UnitOfWork(session, producer=service, outbox=outbox, cause=env)
        return True, await handler(env, uow)


class Consumer:
    """Consumes a service's subscriptions in one consumer group."""

    def __init__(self, *, service: str, kafka: AIOKafkaConsumer,
                 sessions: async_sessionmaker, outbox: sa.Table, processed: sa.Table,
                 subscriptions: list[Subscription], transient_retries: int = 5) -> None:
        self.service = service
        self.kafka = kafka
        self.sessions = sessions
        self.outbox = outbox
        self.processed = processed
        self.routes = {s.topic.name: s for s in subscriptions}
        self.transient_retries = transient_retries
        self.healthy = True

    async def run(self) -> None:
        await self.kafka.start()
        log.info("consumer_started", topics=sorted(self.routes))
        try:
            while True:
                batches = await self.kafka.getmany(timeout_ms=1000)
                for tp, msgs in batches.items():
                    await self._process_partition(tp, msgs)
        finally:
            await self.kafka.stop()

    async def _process_partition(self, tp: TopicPartition, msgs: list[ConsumerRecord]) -> None:
        started = time.perf_counter()
        give_up: set[int] = set()  # message indexes to dead-letter after repeated transient errors
        attempt = 0
        while True:
            try:
                await self._process_batch(tp, msgs, give_up)
                break
            except _Retry as r:
                attempt += 1
                metrics.RETRIES.labels(self.service, tp.topic).inc()
                if attempt >= self.transient_retries:
                    give_up.add(r.index)
                    attempt = 0
                delay = min(0.1 * 2 ** attempt, 5.0)
                log.warning("batch_retry", topic=tp.topic, partition=tp.partition,
                            offset=msgs[r.index].offset, error=str(r.cause), retry_in_s=delay)
                await asyncio.sleep(delay)
            except Exception as exc:  # the database itself is down: wait, never skip
                self.healthy = False
                log.error("batch_failed", topic=tp.topic, partition=tp.partition, error=str(exc))
                await asyncio.sleep(2.0)
        self.healthy = True
        await self.kafka.commit({tp: msgs[-1].offset + 1})
        metrics.BATCH_SECONDS.labels(self.service, tp.topic).observe(time.perf_counter() - started)

    async def _process_batch(self, tp: TopicPartition, msgs: list[ConsumerRecord],
                             give_up: set[int]) -> None:
        sub = self.routes[tp.topic]
        async with self.sessions() as session, session.begin():
            uow = UnitOfWork(session, producer=self.service, outbox=self.outbox)
            for i, msg in enumerate(msgs):
                if i in give_up:
                    await self._dead_letter(uow, msg, "transient",
                                            f"gave up after {self.transient_retries} transient failures")
                    continue
                await self._process_one(uow, sub, msg, i)

    async def _process_one(self, uow: UnitOfWork, sub: Subscription,
                           msg: ConsumerRecord, index: int) -> None:
        topic = msg.topic
        try:
            env = events.decode(msg.value)
        except DecodeError as exc:
            await self._dead_letter(uow, msg, "decode", str(exc))
            return
        handler = sub.handlers.get(type(env.payload))
        if handler is None:
            metrics.EVENTS_IN.labels(self.service, topic, env.event_type, "ignored").inc()
            return
        task_id = getattr(env.payload, "task_id", None)
        with logs.bound(event_id=str(env.event_id), correlation_id=str(env.correlation_id),
                        event_type=env.event_type, org_id=env.org_id,
                        **({"task_id": str(task_id)} if task_id else {})):
            try:
                async with uow.session.begin_nested():
                    if not await mark_processed(uow.session, self.processed, env, topic):
                        metrics.EVENTS_IN.labels(self.service, topic, env.event_type,
                                                 "duplicate").inc()
                        return
                    t0 = time.perf_counter()
                    await handler(env, uow.caused_by(env))
                    metrics.HANDLER_SECONDS.labels(self.service, env.event_type).observe(
                        time.perf_counter() - t0)
            except Exception as exc:
                if is_transient(exc):
                    raise _Retry(index, exc) from exc
                log.error("handler_failed", error=str(exc),
                          traceback=traceback.format_exc(limit=5))
                await self._dead_letter(uow, msg, "handle", f"{type(exc).__name__}: {exc}")
                await mark_processed(uow.session, self.processed, env, topic, "dead_lettered")
                return
            finally:
                uow.caused_by(None)
        metrics.EVENTS_IN.labels(self.service, topic, env.event_type, "handled").inc()

    async def _dead_letter(self, uow: UnitOfWork, msg: ConsumerRecord, stage: str,
                           reason: str) -> None:
        """Queue the original message for ``<topic>.dlq`` with why, where and when."""
        headers = list(msg.headers or ()) + [
            ("dlq.reason", reason.encode()),
            ("dlq.stage", stage.encode()),
            ("dlq.consumer", self.service.encode()),
            ("dlq.topic", msg.topic.encode()),
            ("dlq.partition", str(msg.partition).encode()),
            ("dlq.offset", str(msg.offset).encode()),
            ("dlq.failed_at", utcnow().isoformat().encode()),
        ]
        await uow.write_raw(f"{msg.topic}.dlq", msg.key, msg.value or b"", headers)
        metrics.DEAD_LETTERS.labels(self.service, msg.topic, stage).inc()
        metrics.EVENTS_IN.labels(self.service, msg.topic, _header(msg, "event_type") or "?",
                                 "dead_lettered").inc()
        log.warning("dead_lettered", topic=msg.topic, partition=msg.partition,
                    offset=msg.offset, stage=stage, reason=reason)
