"""Routing's tables: every decision it made, and why."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import add_common_tables

metadata = sa.MetaData()
outbox, processed_event = add_common_tables(metadata)

decision = sa.Table(
    "routing_decision", metadata,
    sa.Column("task_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("queue", sa.Text, nullable=False),
    sa.Column("owner_id", sa.Text),
    sa.Column("rule_id", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
)


async def record_decisions(session: AsyncSession, rows: list[dict]) -> set[uuid.UUID]:
    """Keep decisions in one statement; return the task ids not routed before."""
    if not rows:
        return set()
    got = await session.execute(
        pg_insert(decision).on_conflict_do_nothing().returning(decision.c.task_id), rows)
    return set(got.scalars())
