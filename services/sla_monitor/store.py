"""SLA monitor's tables: the deadline of every active task."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import add_common_tables

metadata = sa.MetaData()
outbox, processed_event = add_common_tables(metadata)

task_clock = sa.Table(
    "task_clock", metadata,
    sa.Column("task_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("task_type", sa.Text, nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Index("ix_task_clock_due_active", "due_at", postgresql_where=sa.text("active")),
)


async def start_clocks(session: AsyncSession, rows: list[dict]) -> None:
    """Start watching tasks' deadlines (once per task)."""
    if rows:
        await session.execute(pg_insert(task_clock).on_conflict_do_nothing(), rows)
