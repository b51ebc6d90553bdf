"""The outbox relay: publishes committed outbox rows in id order, then deletes them.

One relay publishes at a time per service database (a transaction-scoped advisory lock),
so events keep their commit order per key even with several worker replicas. It wakes on
NOTIFY from the committing transaction, with a slow poll as a fallback.
"""
from __future__ import annotations

import asyncio
import contextlib
import time

import psycopg
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy.ext.asyncio import AsyncEngine

from common import db, logs, metrics
from common.uow import NOTIFY_CHANNEL, decode_headers

log = logs.get(__name__)
RELAY_LOCK = 727275


class OutboxRelay:
    def __init__(self, *, service: str, engine: AsyncEngine, outbox: sa.Table,
                 producer: AIOKafkaProducer, listen_dsn: str, batch_size: int = 1000,
                 poll_interval: float = 1.0, max_message_bytes: int = 1_000_000,
                 dead: sa.Table | None = None) -> None:
        self.service = service
        self.engine = engine
        self.outbox = outbox
        self.dead = dead if dead is not None else outbox.metadata.tables["outbox_dead"]
        self.producer = producer
        self.listen_dsn = listen_dsn
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_message_bytes = max_message_bytes
        self._wake = asyncio.Event()
        self._observed_at = 0.0

    async def publish_once(self) -> int:
        """Publish one batch; return how many rows left the outbox (published or set aside;
        0: empty, or another relay holds the lock).

        An event the broker refuses for good (larger than it takes, or invalid) moves to
        ``outbox_dead`` with the reason, and the events behind it go on. A transient
        failure (the broker away) keeps that event and everything after it, in order, for
        the next pass, and is raised after the rows before it are settled."""
        ob = self.outbox
        async with self.engine.begin() as conn:
            locked = (await conn.execute(
                sa.select(sa.func.pg_try_advisory_xact_lock(RELAY_LOCK)))).scalar()
            if not locked:
                return 0
            rows = (await conn.execute(
                sa.select(ob.c.id, ob.c.topic, ob.c.key, ob.c.value, ob.c.headers,
                          ob.c.created_at).order_by(ob.c.id).limit(self.batch_size))).all()
            if not rows:
                return 0
            outcome: list[str | BaseException | asyncio.Future] = []  # per row, in order
            for r in rows:
                size = _size(r)
                if size > self.max_message_bytes:
                    outcome.append(f"MessageSizeTooLarge: {size} bytes, the broker takes at "
                                   f"most {self.max_message_bytes}")
                    continue
                try:
                    outcome.append(await self.producer.send(
                        r.topic, r.value, key=r.key, headers=decode_headers(r.headers)))
                except KafkaError as exc:
                    outcome.append(exc)
                    if exc.retriable:
                        break  # the rest wait for the next pass, in order
            settled = await _settle(outcome)
            cut = next((i for i, o in enumerate(settled) if isinstance(o, BaseException)),
                       len(settled))
            dead = [(r, why) for r, why in zip(rows[:cut], settled[:cut], strict=True) if why]
            if dead:
                await conn.execute(sa.insert(self.dead), [
                    {"id": r.id, "topic": r.topic, "key": r.key, "value": r.value,
                     "headers": r.headers, "size": _size(r), "reason": why,
                     "created_at": r.created_at} for r, why in dead])
            if cut:
                # Exactly the rows we settled: a row with a lower id may commit after our SELECT.
                await conn.execute(
                    sa.text(f"DELETE FROM {ob.name} WHERE id = ANY(CAST(:ids AS bigint[]))"),
                    {"ids": db.array_literal(r.id for r in rows[:cut])})
        for r, why in dead:
            metrics.OUTBOX_DEAD.labels(self.service, r.topic).inc()
            log.error("outbox_dead_lettered", topic=r.topic, outbox_id=r.id, size=_size(r),
                      event_type=_header(r, "event_type"), event_id=_header(r, "event_id"),
                      reason=why)
        for r, why in zip(rows[:cut], settled[:cut], strict=True):
            if not why:
                metrics.EVENTS_OUT.labels(self.service, r.topic).inc()
        if cut < len(settled):
            raise settled[cut]
        return cut

    async def drain(self) -> int:
        total = 0
        while (n := await self.publish_once()):
            total += n
        return total

    async def observe(self) -> None:
        """Export how many events wait and how long the oldest has (at most once a second)."""
        now = time.monotonic()
        if now - self._observed_at < 1.0:
            return
        self._observed_at = now
        pending, age = await outbox_backlog(self.engine, self.outbox)
        metrics.OUTBOX_PENDING.labels(self.service).set(pending)
        metrics.OUTBOX_OLDEST_S.labels(self.service).set(age)

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
                if logs.every(f"{self.service}-outbox-listen"):
                    log.warning("outbox_listen_failed", error=exc)
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
                    metrics.OUTBOX_ERRORS.labels(self.service).inc()
                    if logs.every(f"{self.service}-outbox-publish"):
                        log.warning("outbox_publish_failed", error=exc, retry_in_s=backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    self._wake.set()
                with contextlib.suppress(Exception):  # the database may be the one away
                    await self.observe()
        finally:
            listener.cancel()


async def outbox_backlog(engine: AsyncEngine, outbox: sa.Table) -> tuple[int, float]:
    """(events waiting, seconds the oldest has waited; 0 when empty), in one round trip."""
    async with engine.connect() as conn:
        row = (await conn.execute(sa.text(
            f"SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) "
            f"FROM {outbox.name}"))).one()
    return int(row[0]), float(row[1])


async def _settle(outcome: list) -> list[str | BaseException | None]:
    """Each row's fate: None (published), a reason (refused for good: set aside) or a
    transient exception (kept for the next pass)."""
    futures = [o for o in outcome if isinstance(o, asyncio.Future)]
    results = iter(await asyncio.gather(*futures, return_exceptions=True))
    out: list[str | BaseException | None] = []
    for o in outcome:
        result = next(results) if isinstance(o, asyncio.Future) else o
        if isinstance(result, KafkaError) and not result.retriable:
            out.append(logs.error_text(result))
        elif isinstance(result, BaseException | str):
            out.append(result)
        else:
            out.append(None)
    return out


def _size(r) -> int:
    return len(r.value) + len(r.key or b"") + sum(len(k) + len(v) for k, v in r.headers)


def _header(r, name: str) -> str | None:
    return next((v for k, v in r.headers if k == name), None)
