"""The one consumer loop every service uses: ``subscribe`` declares, ``Consumer`` runs.

Per poll, one database transaction holding the processed-event rows, the handlers'
effects and the outbox rows they emit; handlers get runs of events of their type. Offsets
are committed only after the transaction, so a crash redelivers and the ledger turns the
redelivery into a no-op. A handler failure redoes the poll with a savepoint per event.
What cannot be decoded or handled goes to ``<topic>.dlq`` through the outbox, with the
reason, the original bytes and headers; the loop goes on.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import async_sessionmaker

from common import events, logs, metrics, topics
from common.events import DecodeError, Envelope, utcnow
from common.topics import Topic
from common.uow import UnitOfWork, transaction

log = logs.get(__name__)
# A handler takes one or more events of its type, in bus order, and returns one result per
# event (or None). Batches make a poll of 500 events a handful of statements; on a failure
# the consumer calls it again one event at a time to set the bad one apart.
Handler = Callable[[list[Envelope], UnitOfWork], Awaitable[list[Any] | None]]


IDLE_COMMIT_S = 5.0


@dataclass(frozen=True)
class Subscription:
    topic: Topic
    handlers: dict[type[BaseModel], Handler] = field(default_factory=dict)
    own_ledger: frozenset[type[BaseModel]] = frozenset()


def subscribe(topic: Topic, handlers: dict[type[BaseModel], Handler], *,
              own_ledger: tuple[type[BaseModel], ...] = ()) -> Subscription:
    """Declare which payload types of a topic this service handles (others are skipped).

    ``own_ledger``: types whose handler already does its work once per business key (a
    task is routed once, whatever event announced it), so a redelivered event is a no-op
    without the consumer's event ledger; their events skip it (one INSERT fewer per event)."""
    for model in handlers:
        et = events.REGISTRY.type_of(model)
        if et.topic is not None and et.topic != topic:
            raise ValueError(f"{et.name} travels on {et.topic.name}, not {topic.name}")
    if missing := set(own_ledger) - set(handlers):
        raise ValueError(f"own_ledger names types without a handler: {missing}")
    return Subscription(topic, dict(handlers), frozenset(own_ledger))


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


class _Isolate(Exception):
    """A handler failed on the fast path: redo the batch with a savepoint per event."""


class _Retry(Exception):
    def __init__(self, index: int, cause: BaseException) -> None:
        self.index, self.cause = index, cause


class _Tally:
    """A poll's outcomes, counted once: kept while the poll's transaction may still be
    redone (a retry, or one savepoint per event after a failure) and added to the metrics
    only after it commits."""

    def __init__(self) -> None:
        self.events: Counter[tuple[str, str, str]] = Counter()  # topic, event_type, outcome
        self.dead: Counter[tuple[str, str]] = Counter()  # topic, stage
        self.handler_s: list[tuple[str, float]] = []

    def apply(self, service: str) -> None:
        for (topic, event_type, outcome), n in self.events.items():
            metrics.EVENTS_IN.labels(service, topic, event_type, outcome).inc(n)
        for (topic, stage), n in self.dead.items():
            metrics.DEAD_LETTERS.labels(service, topic, stage).inc(n)
        for event_type, seconds in self.handler_s:
            metrics.HANDLER_SECONDS.labels(service, event_type).observe(seconds)


def _header(msg: ConsumerRecord, name: str) -> str | None:
    headers = msg.headers
    if headers and headers[0][0] == name:  # event_type comes first, as envelopes write it
        return headers[0][1].decode("utf-8", "replace")
    for k, v in headers or ():
        if k == name:
            return v.decode("utf-8", "replace")
    return None


async def mark_processed(session, processed: sa.Table, envs: list[Envelope], topic: str
                         ) -> set[uuid.UUID]:
    """Record events as processed in one statement; return the ids not seen before."""
    if not envs:
        return set()
    rows = [{"event_id": e.event_id, "event_type": e.event_type, "topic": topic} for e in envs]
    got = await session.execute(
        pg_insert(processed).on_conflict_do_nothing().returning(processed.c.event_id), rows)
    return set(got.scalars())


async def handle_now(*, service: str, sessions: async_sessionmaker, outbox: sa.Table,
                     processed: sa.Table, env: Envelope, handler: Handler,
                     via: str = "http") -> tuple[bool, Any]:
    """Run a handler for an event that arrived by HTTP, exactly as the consumer would:
    one transaction, idempotent on event_id. Returns (fresh, handler result)."""
    async with transaction(sessions, outbox, producer=service) as uow:
        if not await mark_processed(uow.session, processed, [env], via):
            return False, None
        results = await handler([env], uow)
        return True, results[0] if results else None


def segments(items: list[tuple[int, ConsumerRecord, Envelope, Handler]]):
    """Group a poll's events into (handler, run) calls without reordering any partition:
    each partition is cut into runs of one handler; round k takes every partition's k-th
    run (partitions commute) and merges the runs that share a handler."""
    runs: dict[tuple[str, int], list[list]] = {}
    for item in items:
        part = runs.setdefault((item[1].topic, item[1].partition), [])
        if part and part[-1][0][3] is item[3]:
            part[-1].append(item)
        else:
            part.append([item])
    rounds = max((len(r) for r in runs.values()), default=0)
    for k in range(rounds):
        merged: dict[Handler, list] = {}
        for part in runs.values():
            if k < len(part):
                merged.setdefault(part[k][0][3], []).extend(part[k])
        yield from merged.items()


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
        self._names = {s.topic.name: {events.REGISTRY.type_of(m).name for m in s.handlers}
                       for s in subscriptions}
        # Every type that travels on each declared topic (common.topics): one of these this
        # service does not handle is skipped unread; any other type is read, and
        # dead-lettered as on the wrong topic. A topic not declared there carries anything.
        self._carried = {name: self._names[name] | {
            et.name for et in events.REGISTRY.by_name.values()
            if et.topic is not None and et.topic.name == name}
            if name in topics.BY_NAME else None for name in self.routes}
        self._tally = _Tally()
        self.transient_retries = transient_retries
        self.healthy = True
        # Offsets of polls that held nothing for this service, committed with the next
        # poll that does (or after IDLE_COMMIT_S): a service that skips most of a topic
        # (routing reads its own TaskRouted back) saves a broker round trip per poll, and
        # re-reading skipped events after a crash costs nothing.
        self._skipped: dict[TopicPartition, int] = {}
        self._committed_at = time.monotonic()

    async def run(self) -> None:
        await self.kafka.start()
        log.info("consumer_started", topics=sorted(self.routes))
        try:
            while True:
                batches = await self.kafka.getmany(timeout_ms=1000)
                if batches:
                    await self._process_poll(batches)
                elif self._skipped:  # quiet now: commit what was skipped
                    await self._commit({})
        finally:
            with contextlib.suppress(Exception):  # best effort: skipped events are re-skipped
                await asyncio.wait_for(self._commit({}), 5)
            await self.kafka.stop()

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit these offsets and those of skipped polls (partitions still ours)."""
        assigned = self.kafka.assignment()
        todo = {tp: o for tp, o in {**self._skipped, **offsets}.items() if tp in assigned}
        self._skipped, self._committed_at = {}, time.monotonic()
        if todo:
            await self.kafka.commit(todo)

    async def _process_poll(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """Everything one poll returned, partition by partition, in one transaction; the
        offsets are committed only after it commits."""
        started = time.perf_counter()
        msgs = [m for tp in sorted(batches) for m in batches[tp]]
        give_up: set[int] = set()  # indexes to dead-letter after repeated transient errors
        isolate = False  # after a handler failure: one savepoint per event to set it apart
        attempt = 0
        while True:
            self._tally = _Tally()  # a redone poll counts afresh
            try:
                worked = await self._process_batch(msgs, give_up, isolate)
                break
            except _Isolate:
                isolate = True
            except _Retry as r:
                attempt += 1
                metrics.RETRIES.labels(self.service, msgs[r.index].topic).inc()
                if attempt >= self.transient_retries:
                    give_up.add(r.index)
                    attempt = 0
                delay = min(0.1 * 2 ** attempt, 5.0)
                log.warning("batch_retry", topic=msgs[r.index].topic,
                            partition=msgs[r.index].partition, offset=msgs[r.index].offset,
                            error=r.cause, retry_in_s=delay)
                await asyncio.sleep(delay)
            except Exception as exc:  # the database itself is down: wait, never skip
                self.healthy = False
                if logs.every(f"{self.service}-batch-failed"):
                    log.error("batch_failed", error=exc, events=len(msgs))
                await asyncio.sleep(2.0)
        self.healthy = True
        self._tally.apply(self.service)
        offsets = {tp: ms[-1].offset + 1 for tp, ms in batches.items()}
        if worked or time.monotonic() - self._committed_at > IDLE_COMMIT_S:
            await self._commit(offsets)
        else:
            self._skipped.update(offsets)
        elapsed = time.perf_counter() - started
        for tp in batches:
            metrics.BATCH_SECONDS.labels(self.service, tp.topic).observe(elapsed)

    async def _process_batch(self, msgs: list[ConsumerRecord], give_up: set[int],
                             isolate: bool) -> bool:
        """One transaction for the batch (False: nothing in it was for this service, no
        transaction). Fast path: no savepoints; a handler failure raises _Isolate and the
        batch is redone with a savepoint per event."""
        ours: list[tuple[int, ConsumerRecord]] = []
        ignored: Counter[tuple[str, str]] = Counter()  # counted once per poll
        for i, msg in enumerate(msgs):
            declared = _header(msg, "event_type")
            carried = self._carried[msg.topic]
            if (i not in give_up and declared is not None and declared not in self._names[msg.topic]
                    and (carried is None or declared in carried)):
                # Not ours: skip without decoding (most task events, for most services).
                ignored[msg.topic, declared] += 1
            else:
                ours.append((i, msg))
        if not ours:  # nothing for us in this poll: no transaction at all
            self._count_ignored(ignored)
            return False
        async with self.sessions() as session, session.begin():
            uow = UnitOfWork(session, producer=self.service, outbox=self.outbox)
            todo: list[tuple[int, ConsumerRecord, Envelope, Handler]] = []
            for i, msg in ours:
                if i in give_up:
                    await self._dead_letter(uow, msg, "transient",
                                            f"gave up after {self.transient_retries} transient failures")
                    continue
                try:
                    env = events.decode(msg.value)
                except DecodeError as exc:
                    await self._dead_letter(uow, msg, "decode", str(exc))  # names no value
                    continue
                if (why := self._misplaced(msg, env)) is not None:
                    await self._dead_letter(uow, msg, "topic", why)
                    continue
                handler = self.routes[msg.topic].handlers.get(type(env.payload))
                if handler is None:
                    ignored[msg.topic, env.event_type] += 1
                    continue
                todo.append((i, msg, env, handler))
            self._count_ignored(ignored)
            fresh: set[uuid.UUID] = set()
            for topic in {m.topic for _, m, _, _ in todo}:
                own = self.routes[topic].own_ledger
                fresh |= await mark_processed(session, self.processed, [
                    e for _, m, e, _ in todo if m.topic == topic and type(e.payload) not in own
                ], topic)
            run: list[tuple[int, ConsumerRecord, Envelope, Handler]] = []
            seen: set[uuid.UUID] = set()
            for item in todo:
                env = item[2]
                if env.event_id in seen or (env.event_id not in fresh and type(env.payload)
                                            not in self.routes[item[1].topic].own_ledger):
                    self._tally.events[item[1].topic, env.event_type, "duplicate"] += 1
                    continue
                seen.add(env.event_id)  # the same event twice in one batch runs once
                run.append(item)
            if isolate:
                for item in run:
                    await self._handle_one(uow, *item)
            else:
                for handler, items in segments(run):
                    await self._handle_many(uow, handler, items)
            await uow.finish()
        return True

    def _misplaced(self, msg: ConsumerRecord, env: Envelope) -> str | None:
        """Why an event that decoded cannot be taken from this topic, if it cannot."""
        carried = self._carried[msg.topic]
        if carried is not None and env.event_type not in carried:
            home = events.REGISTRY.by_name[env.event_type].topic
            return (f"{env.event_type} does not travel on {msg.topic}"
                    + (f" (its topic is {home.name})" if home else ""))
        declared = _header(msg, "event_type")
        if declared is not None and declared != env.event_type:
            return f"header event_type {declared[:64]!r} does not match the body's {env.event_type}"
        return None

    def _count_ignored(self, ignored: Counter[tuple[str, str]]) -> None:
        for (topic, event_type), n in ignored.items():
            self._tally.events[topic, event_type, "ignored"] += n

    async def _handle_many(self, uow: UnitOfWork, handler: Handler,
                           items: list[tuple[int, ConsumerRecord, Envelope, Handler]]) -> None:
        """Fast path: the whole run in one call; any failure redoes the poll event by event."""
        t0 = time.perf_counter()
        try:
            await handler([env for _, _, env, _ in items], uow)
        except Exception as exc:
            log.info("batch_isolating", events=len(items), error=exc)
            raise _Isolate() from exc
        event_type = items[0][2].event_type
        self._tally.handler_s.append((event_type, time.perf_counter() - t0))
        self._tally.events[items[0][1].topic, event_type, "handled"] += len(items)

    async def _handle_one(self, uow: UnitOfWork, index: int, msg: ConsumerRecord,
                          env: Envelope, handler: Handler) -> None:
        """Slow path: one event in its own savepoint; a failure dead-letters only it."""
        task_id = getattr(env.payload, "task_id", None)
        with logs.bound(event_id=str(env.event_id), correlation_id=str(env.correlation_id),
                        event_type=env.event_type, org_id=env.org_id,
                        **({"task_id": str(task_id)} if task_id else {})):
            await uow.flush()  # rows queued before this event stay, whatever happens to it
            try:
                async with uow.session.begin_nested():
                    await handler([env], uow)
                    await uow.flush()
            except Exception as exc:
                uow.discard()
                if is_transient(exc):
                    raise _Retry(index, exc) from exc
                log.error("handler_failed", error=exc, where=logs.where(exc))
                await self._dead_letter(uow, msg, "handle", logs.error_text(exc))
                await uow.session.execute(
                    sa.update(self.processed).where(self.processed.c.event_id == env.event_id)
                    .values(outcome="dead_lettered"))
                return
        self._tally.events[msg.topic, env.event_type, "handled"] += 1

    async def _dead_letter(self, uow: UnitOfWork, msg: ConsumerRecord, stage: str,
                           reason: str) -> None:
        """Queue the original message for ``<topic>.dlq`` with why, where and when (the
        reason names fields and classes, never values: see logs.error_text)."""
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
        self._tally.dead[msg.topic, stage] += 1
        event_type = _header(msg, "event_type") or "?"
        self._tally.events[msg.topic, event_type if event_type in events.REGISTRY.by_name
                           else "?", "dead_lettered"] += 1
        log.warning("dead_lettered", topic=msg.topic, partition=msg.partition,
                    offset=msg.offset, stage=stage, reason=reason)
