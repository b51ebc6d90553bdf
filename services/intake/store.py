"""Intake's tables: the source-event ledger (dedup on the source's own id)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
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
    sa.Column("task_id", UUID(as_uuid=True)),  # null: the event opened no task
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
)


known_org = sa.Table(
    "known_org", metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
)
task_policy = sa.Table(
    "task_policy", metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("task_type", sa.Text, primary_key=True),
    sa.Column("policy", JSONB, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),  # the gateway's
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
)


async def register_orgs(session: AsyncSession, orgs: list[dict]) -> None:
    """Remember orgs the gateway onboarded ({org_id, name})."""
    if orgs:
        stmt = pg_insert(known_org)
        await session.execute(stmt.on_conflict_do_update(
            index_elements=[known_org.c.org_id], set_={"name": stmt.excluded.name}), orgs)


async def known_orgs(session: AsyncSession, org_ids: set[str]) -> set[str]:
    """Which of these orgs intake knows."""
    got = await session.execute(sa.select(known_org.c.org_id)
                                .where(known_org.c.org_id.in_(org_ids)))
    return set(got.scalars())


async def policies_for(session: AsyncSession, org_ids: set[str]) -> dict[str, dict[str, dict]]:
    """Each org's own task policies (by task type), as stored."""
    out: dict[str, dict[str, dict]] = {o: {} for o in org_ids}
    got = await session.execute(sa.select(task_policy).where(task_policy.c.org_id.in_(org_ids)))
    for row in got:
        out[row.org_id][row.task_type] = row.policy
    return out


async def apply_policies(session: AsyncSession, rows: list[dict]) -> int:
    """Store announced policies ({org_id, task_type, version, policy}); a version not newer
    than the stored one changes nothing. Returns how many were applied."""
    if not rows:
        return 0
    stmt = pg_insert(task_policy)
    got = await session.execute(stmt.on_conflict_do_update(
        index_elements=[task_policy.c.org_id, task_policy.c.task_type],
        set_={"policy": stmt.excluded.policy, "version": stmt.excluded.version,
              "updated_at": sa.func.now()},
        where=task_policy.c.version < stmt.excluded.version).returning(task_policy.c.org_id),
        rows)
    return len(got.all())


async def own_policies(session: AsyncSession, org_id: str) -> dict[str, tuple[dict, int]]:
    """An org's own policies with the version each came with (task type → (policy,
    version)), read in one statement so that the two always belong together."""
    got = await session.execute(sa.select(task_policy.c.task_type, task_policy.c.policy,
                                          task_policy.c.version)
                                .where(task_policy.c.org_id == org_id))
    return {r.task_type: (r.policy, r.version) for r in got}


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
