"""The outbox relay: publishes committed outbox rows in id order, then deletes them.

One relay publishes at a time per service database (a transaction-scoped advisory lock),
so events keep their commit order per key even with several worker replicas. It wakes on
NOTIFY from the committing transaction, with a slow poll as a fallback.
"""
from __future__ import annotations

import asyncio

import psycopg
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from common import db, logs, metrics
from common.uow import NOTIFY_CHANNEL, decode_headers

log = logs.get(__name__)
RELAY_LOCK = 727275


class OutboxRelay:
    def __init__(self, *, service: str, engine: AsyncEngine, outbox: sa.Table,
                 producer: AIOKafkaProducer, listen_dsn: str, batch_size: int = 1000,
                 poll_interval: float = 1.0) -> None:
        self.service = service
        self.engine = engine
        self.outbox = outbox
        self.producer = producer
        self.listen_dsn = listen_dsn
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()

    async def publish_once(self) -> int:
        """Publish one batch; return how many rows went out (0: empty, or another relay holds the lock)."""
        ob = self.outbox
        async with self.engine.begin() as conn:
            locked = (await conn.execute(
                sa.select(sa.func.pg_try_advisory_xact_lock(RELAY_LOCK)))).scalar()
            if not locked:
                return 0
            rows = (await conn.execute(
                sa.select(ob.c.id, ob.c.topic, ob.c.key, ob.c.value, ob.c.headers)
                .order_by(ob.c.id).limit(self.batch_size))).all()
            if not rows:
                metrics.OUTBOX_PENDING.labels(self.service).set(0)
                return 0
            futures = [
                await self.producer.send(r.topic, r.value, key=r.key,
                                         headers=decode_headers(r.headers))
                for r in rows
            ]
            await asyncio.gather(*futures)  # every row acknowledged before we delete any
            # Exactly the rows we read: a row with a lower id may commit after our SELECT.
            await conn.execute(sa.text(f"DELETE FROM {ob.name} WHERE id = ANY(CAST(:ids AS bigint[]))"),
                               {"ids": db.array_literal(r.id for r in rows)})
        for r in rows:
            metrics.EVENTS_OUT.labels(self.service, r.topic).inc()
        metrics.OUTBOX_PENDING.labels(self.service).set(len(rows))
        return len(rows)

    async def drain(self) -> int:
        total = 0
        while (n := await self.publish_once()):
            total += n
        return total

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                        self.listen_dsn, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self._wake.set()  # catch up with anything committed before LISTEN
                    async for _ in conn.notifies():
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox_listen_failed", error=str(exc))
                await asyncio.sleep(1)

    async def run(self) -> None:
        """Publish until cancelled; survive broker and database outages with backoff."""
        listener = asyncio.create_task(self._listen(), name=f"{self.service}-outbox-listen")
        backoff = 0.1
        try:
            while True:
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
                except TimeoutError:
                    pass
                self._wake.clear()
                try:
                    await self.drain()
                    backoff = 0.1
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("outbox_publish_failed", error=str(exc), retry_in_s=backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    self._wake.set()
        finally:
            listener.cancel()
