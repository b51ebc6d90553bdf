"""The tables of payer interactions (on payer_comms's one MetaData): the payer directory
(built-in rows for every org, and each org's overrides), the consent registry, the
interactions and every provider callback as it came."""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.payer_comms.store import TS, metadata

EVERY_ORG = ""  # the org_id of the built-in directory rows

payer = sa.Table(
    "payer", metadata,
    sa.Column("org_id", sa.Text, primary_key=True),   # EVERY_ORG or one org's override
    sa.Column("payer_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("phone", sa.Text),          # provider services, E.164
    sa.Column("fax", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("portal_url", sa.Text),
    sa.Column("hours", sa.Text),          # "Mon-Fri 08:00-18:00"
    sa.Column("time_zone", sa.Text, nullable=False, server_default="America/New_York"),
    sa.Column("ivr_notes", sa.Text),
    sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
    sa.Column("updated_by", sa.Text),
)

consent = sa.Table(
    "consent", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("number", sa.Text, nullable=False),     # E.164
    sa.Column("channel", sa.Text, nullable=False),    # voice or sms
    sa.Column("source", sa.Text, nullable=False),     # how it was given
    sa.Column("scope", sa.Text),                      # what it covers, in words
    sa.Column("given_at", TS, nullable=False),
    sa.Column("recorded_by", sa.Text),
    sa.Column("revoked_at", TS),
    sa.Column("revoked_by", sa.Text),                 # a user id, or "sms" (a reply)
    sa.Index("ix_consent_number", "org_id", "number"),
)

interaction = sa.Table(
    "interaction", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),  # the requester's dedup key
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("task_id", UUID(as_uuid=True)),                # None: in triage
    sa.Column("channel", sa.Text, nullable=False),           # voice, sms, email
    sa.Column("direction", sa.Text, nullable=False),         # outbound, inbound
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
    sa.Column("payer_id", sa.Text),
    sa.Column("user_id", sa.Text),
    sa.Column("counterpart", sa.Text),   # the payer's number or address (never logged)
    sa.Column("staff_number", sa.Text),  # the phone rung for a bridged call
    sa.Column("provider_sid", sa.Text, unique=True),
    sa.Column("thread_id", sa.Text, index=True),  # an e-mail's Message-ID
    sa.Column("claim_number", sa.Text),
    sa.Column("subject", sa.Text),
    sa.Column("body", sa.Text),
    sa.Column("summary", sa.Text),
    sa.Column("refusal", sa.Text),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("ended_at", TS),
    sa.Column("duration_s", sa.Integer),
    sa.Column("reference_number", sa.Text),
    sa.Column("claim_status", sa.Text),
    sa.Column("promised_payment_date", sa.Date),
    sa.Column("missing_information", sa.Text),
    sa.Column("next_step", sa.Text),
    sa.Column("follow_up_date", sa.Date),
    sa.Column("carc_codes", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("recording_url", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", TS),
    sa.Column("event_id", UUID(as_uuid=True)),
    sa.Index("ix_interaction_task", "task_id"),
    sa.Index("ix_interaction_due", "next_attempt_at", postgresql_where=sa.text("status = 'pending'")),
)

callback = sa.Table(
    "interaction_callback", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("interaction_id", UUID(as_uuid=True), index=True),
    sa.Column("provider_sid", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("params", JSONB, nullable=False),
    sa.UniqueConstraint("provider_sid", "status", name="uq_callback_once"),
)

CHANGEABLE = ("task_id", "payer_id", "status", "user_id", "provider_sid", "thread_id", "summary", "refusal",
              "ended_at", "duration_s", "reference_number", "claim_status",
              "promised_payment_date", "missing_information", "next_step", "follow_up_date",
              "recording_url", "attempts", "next_attempt_at", "staff_number", "counterpart",
              "carc_codes")


async def payer_entry(session: AsyncSession, org_id: str, payer_id: str):
    """A payer's directory row for an org: the org's override, else the built-in one."""
    return (await session.execute(sa.select(payer).where(
        payer.c.payer_id == payer_id, payer.c.org_id.in_([org_id, EVERY_ORG]))
        .order_by(sa.case((payer.c.org_id == org_id, 0), else_=1)).limit(1))).first()


async def payers_of(session: AsyncSession, org_id: str) -> list:
    """The directory an org sees: its overrides over the built-in rows, by name."""
    rows = (await session.execute(sa.select(payer).where(
        payer.c.org_id.in_([org_id, EVERY_ORG])))).all()
    best: dict[str, object] = {}
    for r in rows:
        if r.payer_id not in best or r.org_id == org_id:
            best[r.payer_id] = r
    return sorted(best.values(), key=lambda r: r.name)


async def upsert_payers(session: AsyncSession, rows: list[dict]) -> None:
    """Create or replace directory rows (by org and payer)."""
    if rows:
        stmt = pg_insert(payer)
        await session.execute(stmt.on_conflict_do_update(
            index_elements=[payer.c.org_id, payer.c.payer_id],
            set_={c.name: stmt.excluded[c.name] for c in payer.columns
                  if c.name not in ("org_id", "payer_id")}), rows)


async def business_lines(session: AsyncSession, org_id: str) -> set[str]:
    """Every phone and fax number in the directory the org sees (no consent needed)."""
    return {n for r in await payers_of(session, org_id) for n in (r.phone, r.fax) if n}


async def consents_of(session: AsyncSession, org_id: str, number: str) -> list:
    return (await session.execute(sa.select(consent).where(
        consent.c.org_id == org_id, consent.c.number == number).order_by(consent.c.id))).all()


async def add_consent(session: AsyncSession, **values) -> int:
    return (await session.execute(sa.insert(consent).values(**values)
                                  .returning(consent.c.id))).scalar_one()


async def revoke_consents(session: AsyncSession, *, org_id: str | None, number: str,
                          channel: str | None, at: datetime, by: str) -> int:
    """Revoke the number's standing consents (one org's, or every org's for a reply to a
    shared sending number); how many."""
    q = sa.update(consent).where(consent.c.number == number, consent.c.revoked_at.is_(None))
    if org_id is not None:
        q = q.where(consent.c.org_id == org_id)
    if channel is not None:
        q = q.where(consent.c.channel == channel)
    return (await session.execute(q.values(revoked_at=at, revoked_by=by))).rowcount


async def add_interaction(session: AsyncSession, values: dict) -> bool:
    """Record a new interaction; False when its id is known (a repeated request)."""
    got = await session.execute(pg_insert(interaction).values(**values)
                                .on_conflict_do_nothing().returning(interaction.c.id))
    return got.first() is not None


async def interaction_by_id(session: AsyncSession, interaction_id: uuid.UUID, *, lock=False):
    q = sa.select(interaction).where(interaction.c.id == interaction_id)
    return (await session.execute(q.with_for_update() if lock else q)).first()


async def interaction_by_sid(session: AsyncSession, sid: str, *, lock=False):
    q = sa.select(interaction).where(interaction.c.provider_sid == sid)
    return (await session.execute(q.with_for_update() if lock else q)).first()


async def by_thread(session: AsyncSession, message_id: str):
    """Our interaction whose e-mail had this Message-ID, or None."""
    return (await session.execute(sa.select(interaction).where(
        interaction.c.thread_id == message_id).limit(1))).first()


async def update_interaction(session: AsyncSession, interaction_id: uuid.UUID, *,
                             revise: bool = True, **changes):
    """Apply changes; the new row. A change others see (``revise``) counts a revision;
    bookkeeping (the next retry) does not."""
    bad = set(changes) - set(CHANGEABLE)
    if bad:
        raise ValueError(f"not changeable: {sorted(bad)}")
    if revise:
        changes["revision"] = interaction.c.revision + 1
    return (await session.execute(sa.update(interaction).where(interaction.c.id == interaction_id)
                                  .values(**changes).returning(interaction))).one()


async def record_callback(session: AsyncSession, **values) -> bool:
    """Keep a provider callback as it came; False when the same (sid, status) came before."""
    got = await session.execute(pg_insert(callback).values(**values)
                                .on_conflict_do_nothing().returning(callback.c.id))
    return got.first() is not None


async def claim_pending(session: AsyncSession, now: datetime, limit: int) -> list:
    """Pending outbound interactions due to be placed or sent, locked (SKIP LOCKED)."""
    return (await session.execute(sa.select(interaction).where(
        interaction.c.status == "pending", interaction.c.direction == "outbound",
        interaction.c.next_attempt_at <= now).order_by(interaction.c.next_attempt_at)
        .limit(limit).with_for_update(skip_locked=True))).all()


async def open_candidates(session: AsyncSession, org_id: str | None, counterpart: str) -> list:
    """For matching an inbound item: per task, the claim number and the latest outbound
    interaction with this counterpart (a number or an address)."""
    q = (sa.select(interaction.c.org_id, interaction.c.task_id, interaction.c.payer_id,
                   sa.func.max(interaction.c.claim_number).label("claim_number"),
                   sa.func.max(interaction.c.started_at).label("last_outbound_at"))
         .where(interaction.c.counterpart == counterpart, interaction.c.direction == "outbound",
                interaction.c.task_id.is_not(None))
         .group_by(interaction.c.org_id, interaction.c.task_id, interaction.c.payer_id))
    if org_id is not None:
        q = q.where(interaction.c.org_id == org_id)
    return (await session.execute(q)).all()


async def triage(session: AsyncSession, org_id: str, limit: int = 200) -> list:
    """An org's inbound interactions that match no task yet, newest first."""
    return (await session.execute(sa.select(interaction).where(
        interaction.c.org_id == org_id, interaction.c.task_id.is_(None))
        .order_by(interaction.c.started_at.desc()).limit(limit))).all()


async def of_task(session: AsyncSession, org_id: str, task_id: uuid.UUID) -> list:
    return (await session.execute(sa.select(interaction).where(
        interaction.c.org_id == org_id, interaction.c.task_id == task_id)
        .order_by(interaction.c.started_at))).all()
