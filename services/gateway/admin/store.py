"""Settings of other services that managers edit here, each versioned per org: routing
rules, SLA policies and intake's task policies (per task type). A save is a new version;
the latest one is in force."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.store import metadata

routing_rule_set = sa.Table(
    "routing_rule_set", metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("rules", JSONB, nullable=False),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
sla_policy_set = sa.Table(
    "sla_policy_set", metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("policies", JSONB, nullable=False),
    sa.Column("maintenance_windows", JSONB, nullable=False, server_default="[]"),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
task_policy_version = sa.Table(
    "task_policy_version", metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("task_type", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("policy", JSONB, nullable=False),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)


async def latest(session: AsyncSession, table: sa.Table, org_id: str):
    """An org's latest version of a setting (routing rules, SLA policies), or None (the
    defaults apply)."""
    return (await session.execute(sa.select(table).where(table.c.org_id == org_id)
                                  .order_by(table.c.version.desc()).limit(1))).first()


async def add_version(session: AsyncSession, table: sa.Table, *, key: dict, **values) -> int:
    """Store the next version of a setting (``key``: its org, and its task type for a task
    policy); return its number. Saves of one setting take turns, so each gets its own."""
    lock = "/".join([table.name, *key.values()])
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(lock))))
    version = 1 + (await session.execute(
        sa.select(sa.func.coalesce(sa.func.max(table.c.version), 0))
        .where(*(table.c[k] == v for k, v in key.items())))).scalar_one()
    await session.execute(sa.insert(table).values(**key, **values, version=version))
    return version


async def task_policies(session: AsyncSession, org_id: str) -> dict:
    """The latest policy row of each task type the org set one for, by task type."""
    t = task_policy_version
    newest = sa.select(t.c.task_type, sa.func.max(t.c.version).label("version")).where(
        t.c.org_id == org_id).group_by(t.c.task_type).subquery()
    rows = (await session.execute(sa.select(t.c.task_type, t.c.version, t.c.policy).join(
        newest, (t.c.task_type == newest.c.task_type) & (t.c.version == newest.c.version))
        .where(t.c.org_id == org_id))).all()
    return {r.task_type: r for r in rows}
