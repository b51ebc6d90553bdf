"""payer_comms's tables: staff contact details (from directory events), alerts asked for,
one delivery per alert × person × channel, and every attempt at it."""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import add_common_tables

metadata = sa.MetaData()
outbox, processed_event = add_common_tables(metadata)
TS = sa.DateTime(timezone=True)

contact = sa.Table(
    "contact", metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("user_id", sa.Text, primary_key=True),
    sa.Column("email", sa.Text),
    sa.Column("phone", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
)

alert = sa.Table(
    "alert", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),  # the requester's dedup key
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("task_id", UUID(as_uuid=True)),
    sa.Column("level", sa.SmallInteger, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("recipients", ARRAY(sa.Text), nullable=False),
    sa.Column("suppressed_by", sa.Text),
    sa.Column("requested_at", TS, nullable=False, server_default=sa.func.now()),
    sa.Column("event_id", UUID(as_uuid=True)),
)

delivery = sa.Table(
    "delivery", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("alert_id", UUID(as_uuid=True), nullable=False),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("user_id", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),  # sms or email
    sa.Column("address", sa.Text),
    # pending → sent | failed (gave up) ; or at once: suppressed, no_address
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", TS),
    sa.Column("last_error", sa.Text),
    sa.Column("provider_message_id", sa.Text),
    sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
    sa.Column("done_at", TS),
    sa.UniqueConstraint("alert_id", "user_id", "channel", name="uq_delivery_once"),
    sa.Index("ix_delivery_due", "next_attempt_at", postgresql_where=sa.text("status = 'pending'")),
)

delivery_attempt = sa.Table(
    "delivery_attempt", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("delivery_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("at", TS, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("provider_message_id", sa.Text),
    sa.Column("elapsed_ms", sa.Integer, nullable=False),
)


async def upsert_contacts(session: AsyncSession, rows: list[dict]) -> None:
    """Remember staff's e-mail and phone (the latest announcement wins)."""
    if rows:
        stmt = pg_insert(contact)
        await session.execute(stmt.on_conflict_do_update(
            index_elements=[contact.c.org_id, contact.c.user_id],
            set_={"email": stmt.excluded.email, "phone": stmt.excluded.phone,
                  "active": stmt.excluded.active}), rows)


async def contacts(session: AsyncSession, org_id: str, user_ids: list[str]) -> dict[str, object]:
    """Contact rows of an org's users, by user id."""
    rows = (await session.execute(sa.select(contact).where(
        contact.c.org_id == org_id, contact.c.user_id.in_(user_ids)))).all()
    return {r.user_id: r for r in rows}


async def add_alerts(session: AsyncSession, rows: list[dict]) -> set[uuid.UUID]:
    """Record alerts; return the ids not seen before (a repeated request is a no-op)."""
    if not rows:
        return set()
    got = await session.execute(pg_insert(alert).on_conflict_do_nothing().returning(alert.c.id), rows)
    return set(got.scalars())


async def add_deliveries(session: AsyncSession, rows: list[dict]) -> None:
    if rows:
        await session.execute(pg_insert(delivery).on_conflict_do_nothing(), rows)


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list:
    """Pending deliveries whose attempt is due, locked (others' in-flight ones are skipped)."""
    q = (sa.select(delivery, alert.c.subject, alert.c.body, alert.c.task_id)
         .join(alert, alert.c.id == delivery.c.alert_id)
         .where(delivery.c.status == "pending", delivery.c.next_attempt_at <= now)
         .order_by(delivery.c.next_attempt_at).limit(limit)
         .with_for_update(of=delivery, skip_locked=True))
    return (await session.execute(q)).all()


async def record_attempt(session: AsyncSession, *, delivery_id: int, at: datetime, ok: bool,
                         error: str | None, provider_message_id: str | None, elapsed_ms: int,
                         status: str, attempts: int, next_attempt_at: datetime | None) -> None:
    """One attempt and the delivery's new state, together."""
    await session.execute(sa.insert(delivery_attempt).values(
        delivery_id=delivery_id, at=at, ok=ok, error=error,
        provider_message_id=provider_message_id, elapsed_ms=elapsed_ms))
    await session.execute(sa.update(delivery).where(delivery.c.id == delivery_id).values(
        status=status, attempts=attempts, next_attempt_at=next_attempt_at, last_error=error,
        provider_message_id=provider_message_id,
        done_at=None if status == "pending" else at))
