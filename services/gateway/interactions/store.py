"""The gateway's view of payer interactions: one row per interaction, kept at the highest
revision payer_comms announced (revision 0: asked for here, not yet taken up). Outcome
fields are never cleared by a later state (payer_comms never clears them either), so an
outcome staff just gave survives an older state still on its way."""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.store import metadata

OUTCOME = ("reference_number", "claim_status", "promised_payment_date", "missing_information",
           "next_step", "follow_up_date")

interaction = sa.Table(
    "payer_interaction", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("task_id", UUID(as_uuid=True)),           # None: in triage
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),      # voice, sms, email
    sa.Column("direction", sa.Text, nullable=False),    # outbound, inbound
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("payer_id", sa.Text),
    sa.Column("user_id", sa.Text),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("duration_s", sa.Integer),
    sa.Column("summary", sa.Text),
    sa.Column("refusal", sa.Text),
    sa.Column("reference_number", sa.Text),
    sa.Column("claim_status", sa.Text),
    sa.Column("promised_payment_date", sa.Date),
    sa.Column("missing_information", sa.Text),
    sa.Column("next_step", sa.Text),
    sa.Column("follow_up_date", sa.Date),
    sa.Column("carc_codes", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("recording_url", sa.Text),
    sa.Column("outcome_by", sa.Text),
    sa.Column("outcome_at", sa.DateTime(timezone=True)),
    sa.Column("note_id", UUID(as_uuid=True)),           # the note its outcome became
    sa.Column("follow_up_task_id", UUID(as_uuid=True)),  # the sub-task its follow-up date became
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.text("clock_timestamp()")),
    sa.Index("ix_payer_interaction_task", "org_id", "task_id", "started_at"),
    sa.Index("ix_payer_interaction_sent", "org_id", "started_at", "id"),
)

COLUMNS = [c.name for c in interaction.columns if c.name not in ("updated_at",)]


async def add_requested(session: AsyncSession, **values) -> None:
    """An interaction staff just asked for (revision 0)."""
    await session.execute(sa.insert(interaction).values(revision=0, **values))


async def apply_logged(session: AsyncSession, rows: list[dict]) -> dict[uuid.UUID, tuple]:
    """Keep each interaction at its highest revision, in one statement; outcome fields keep
    their value when a state carries none (nor is an attached item detached by an older
    state). Returns, for each row that changed, ((status, task) before, or (None, None) if
    new; (status, task) now)."""
    if not rows:
        return {}
    ins = pg_insert(interaction).values(rows)
    keep = {c: sa.func.coalesce(ins.excluded[c], interaction.c[c])
            for c in (*OUTCOME, "recording_url", "task_id")}
    changed = {c: ins.excluded[c] for c in rows[0] if c not in ("id", "org_id", *keep)}
    old = sa.select(interaction.c.id, interaction.c.revision, interaction.c.status,
                    interaction.c.task_id).where(interaction.c.id.in_([r["id"] for r in rows]))
    before = {r.id: (r.status, r.task_id) for r in (await session.execute(
        old.with_for_update())).all()}
    up = ins.on_conflict_do_update(
        index_elements=["id"], set_={**changed, **keep, "updated_at": sa.func.clock_timestamp()},
        # Never across orgs, never backwards.
        where=(interaction.c.org_id == ins.excluded.org_id)
        & (interaction.c.revision < ins.excluded.revision)).returning(
            interaction.c.id, interaction.c.status, interaction.c.task_id)
    return {r.id: (before.get(r.id, (None, None)), (r.status, r.task_id))
            for r in (await session.execute(up)).all()}


async def get(session: AsyncSession, org_id: str, interaction_id: uuid.UUID, *,
              for_update: bool = False):
    q = sa.select(interaction).where(interaction.c.id == interaction_id,
                                     interaction.c.org_id == org_id)
    return (await session.execute(q.with_for_update() if for_update else q)).first()


async def update(session: AsyncSession, interaction_id: uuid.UUID, **values) -> None:
    await session.execute(sa.update(interaction).where(interaction.c.id == interaction_id)
                          .values(**values, updated_at=sa.func.clock_timestamp()))


async def of_task(session: AsyncSession, org_id: str, task_id: uuid.UUID) -> list:
    """A task's interactions, newest first."""
    return (await session.execute(sa.select(interaction).where(
        interaction.c.org_id == org_id, interaction.c.task_id == task_id)
        .order_by(interaction.c.started_at.desc(), interaction.c.id))).all()


async def triage(session: AsyncSession, org_id: str, limit: int = 200) -> list:
    """The org's interactions matched to no task, newest first."""
    return (await session.execute(sa.select(interaction).where(
        interaction.c.org_id == org_id, interaction.c.task_id.is_(None))
        .order_by(interaction.c.started_at.desc(), interaction.c.id).limit(limit))).all()


# How started_at compares with a period [lo, hi) (FHIR's date prefixes, on an instant).
PERIOD_TESTS = {
    "eq": lambda c, lo, hi: (c >= lo) & (c < hi), "ne": lambda c, lo, hi: (c < lo) | (c >= hi),
    "lt": lambda c, lo, hi: c < lo, "le": lambda c, lo, hi: c < hi,
    "gt": lambda c, lo, hi: c >= hi, "ge": lambda c, lo, hi: c >= lo,
}


async def search(session: AsyncSession, org_id: str, *, task_ids: list[uuid.UUID] | None = None,
                 started: list[list[tuple[str, datetime, datetime]]] = (), count: int = 50,
                 offset: int = 0) -> tuple[int, list]:
    """The org's interactions (for FHIR Communication), oldest first: how many match and
    one page of them. ``task_ids``: only those on these tasks; ``started``: conditions on
    started_at, all of which hold, each met by any of its (test, lo, hi) (PERIOD_TESTS)."""
    q = sa.select(interaction).where(interaction.c.org_id == org_id)
    if task_ids is not None:
        q = q.where(interaction.c.task_id.in_(task_ids))
    for anyof in started:
        q = q.where(sa.or_(*(PERIOD_TESTS[test](interaction.c.started_at, lo, hi)
                             for test, lo, hi in anyof)))
    total = (await session.execute(sa.select(sa.func.count()).select_from(q.subquery()))).scalar_one()
    rows = (await session.execute(q.order_by(interaction.c.started_at, interaction.c.id)
                                  .limit(count).offset(offset))).all()
    return total, rows
