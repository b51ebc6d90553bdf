"""Intake's tables: the source-event ledger (dedup on the source's own id)."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import add_common_tables

metadata = sa.MetaData()
outbox, processed_event = add_common_tables(metadata)

source_event = sa.Table(
    "source_event", metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("source_kind", sa.Text, primary_key=True),
    sa.Column("source_id", sa.Text, primary_key=True),
    sa.Column("event_id", UUID(as_uuid=True), nullable=False),
    sa.Column("task_id", UUID(as_uuid=True), nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
)


async def record_source(session: AsyncSession, *, org_id: str, source_kind: str,
                        source_id: str, event_id: uuid.UUID, task_id: uuid.UUID) -> bool:
    """Remember a source event; False when this source was already seen (a replay)."""
    row = (await session.execute(
        pg_insert(source_event)
        .values(org_id=org_id, source_kind=source_kind, source_id=source_id,
                event_id=event_id, task_id=task_id)
        .on_conflict_do_nothing()
        .returning(source_event.c.task_id))).first()
    return row is not None


async def count_sources(session: AsyncSession, org_id: str) -> int:
    """How many distinct source events an org has sent."""
    return (await session.execute(
        sa.select(sa.func.count()).select_from(source_event)
        .where(source_event.c.org_id == org_id))).scalar_one()
