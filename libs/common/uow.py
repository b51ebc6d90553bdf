"""Unit of work: one database transaction holding a state change and the events it emits.

Handlers never touch the producer. ``emit`` writes an outbox row in the same transaction,
and the relay publishes it after commit, so a crash never loses or invents an event.
"""
from __future__ import annotations

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from common import events, topics
from common.events import Envelope

NOTIFY_CHANNEL = "wq_outbox"


def outbox_row(topic: str, key: bytes | None, value: bytes,
               headers: list[tuple[str, bytes]]) -> dict:
    return {
        "topic": topic,
        "key": key,
        "value": value,
        "headers": [[k, v.decode("latin-1")] for k, v in headers],
    }


class UnitOfWork:
    """A session inside an open transaction, plus ``emit`` into the outbox."""

    def __init__(self, session: AsyncSession, *, producer: str,
                 outbox: sa.Table, cause: Envelope | None = None) -> None:
        self.session = session
        self.producer = producer
        self.cause = cause
        self._outbox = outbox
        self.emitted: list[Envelope] = []

    def caused_by(self, cause: Envelope | None) -> "UnitOfWork":
        self.cause = cause
        return self

    async def emit(self, payload: BaseModel, *, org_id: str, key: str) -> Envelope:
        """Record an event to publish when this transaction commits."""
        env = events.envelope(payload, org_id=org_id, producer=self.producer, cause=self.cause)
        et = events.REGISTRY.by_name[env.event_type]
        if et.topic is None:
            raise KeyError(f"{env.event_type} has no topic in common.topics.EVENT_TOPICS")
        await self.write_raw(et.topic.name, key.encode(), events.encode(env), env.headers)
        self.emitted.append(env)
        return env

    async def write_raw(self, topic: str, key: bytes | None, value: bytes,
                        headers: list[tuple[str, bytes]]) -> None:
        """Queue raw bytes for a topic (the dead-letter path uses this)."""
        await self.session.execute(sa.insert(self._outbox), [outbox_row(topic, key, value, headers)])
        await self.session.execute(sa.text(f"NOTIFY {NOTIFY_CHANNEL}"))


def decode_headers(stored: list) -> list[tuple[str, bytes]]:
    return [(k, v.encode("latin-1")) for k, v in stored]


