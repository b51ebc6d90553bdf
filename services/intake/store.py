"""Intake's tables: the source-event ledger (dedup on the source's own id)."""
from __future__ import annotations

import sqlalchemy as sa
from common.db import add_common_tables
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

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


SourceKey = tuple[str, str, str]  # org_id, source_kind, source_id


async def record_sources(session: AsyncSession, rows: list[dict]) -> set[SourceKey]:
    """Remember source events in one statement; return the keys not seen before (a
    source sent twice, even in the same batch, is new only once)."""
    if not rows:
        return set()
    got = await session.execute(
        pg_insert(source_event).on_conflict_do_nothing()
        .returning(source_event.c.org_id, source_event.c.source_kind, source_event.c.source_id),
        rows)
    return {tuple(r) for r in got}


async def count_sources(session: AsyncSession, org_id: str) -> int:
    """How many distinct source events an org has sent."""
    return (await session.execute(
        sa.select(sa.func.count()).select_from(source_event)
        .where(source_event.c.org_id == org_id))).scalar_one()
