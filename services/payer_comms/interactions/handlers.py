"""Requests from the gateway to call or message a payer about a task: each becomes one
interaction, refused at once (and logged as such) when there is no number, no address, no
phone to ring or no consent, else queued for the sender loop. The same request twice is one
interaction."""
from __future__ import annotations

from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email

from common import logs
from common.events import Envelope
from common.events.generated import (
    CallRequested,
    InteractionAttached,
    InteractionOutcomeRecorded,
    MessageRequested,
    PayerInteractionLogged,
)
from common.uow import UnitOfWork
from services.payer_comms import domain
from services.payer_comms import store as contacts_store
from services.payer_comms.interactions import store

log = logs.get(__name__)
SMS_MAX = 1600


def logged(row) -> PayerInteractionLogged:
    """The event of an interaction's current state (ids and facts; no body, number or
    address)."""
    return PayerInteractionLogged(
        interaction_id=row.id, revision=row.revision, task_id=row.task_id, channel=row.channel,
        direction=row.direction, status=row.status, payer_id=row.payer_id, user_id=row.user_id,
        started_at=row.started_at, ended_at=row.ended_at, duration_s=row.duration_s,
        summary=row.summary, refusal=row.refusal, reference_number=row.reference_number,
        claim_status=row.claim_status, promised_payment_date=row.promised_payment_date,
        missing_information=row.missing_information, next_step=row.next_step,
        follow_up_date=row.follow_up_date, carc_codes=list(row.carc_codes or []),
        recording_url=row.recording_url)


async def announce(uow: UnitOfWork, row, *, cause: Envelope | None = None) -> None:
    await uow.emit(logged(row), cause=cause, org_id=row.org_id, key=str(row.task_id or row.id))


async def _consent(uow: UnitOfWork, org_id: str, channel: str, number: str, at: datetime):
    lines = await store.business_lines(uow.session, org_id)
    rows = await store.consents_of(uow.session, org_id, number)
    return domain.consent_for(channel, number, business_lines=lines, at=at, consents=[
        domain.Consent(r.channel, r.source, r.given_at, r.revoked_at) for r in rows])


async def _record(uow: UnitOfWork, e: Envelope, values: dict) -> None:
    if not await store.add_interaction(uow.session, values):
        return  # the same request again
    row = await store.interaction_by_id(uow.session, values["id"])
    await announce(uow, row, cause=e)
    log.info("payer_interaction_requested", interaction_id=str(row.id), task_id=str(row.task_id),
             channel=row.channel, status=row.status)


async def call_requested(batch: list[Envelope[CallRequested]], uow: UnitOfWork) -> None:
    """Record a call to place: the staff member's phone is rung, then bridged to the payer."""
    now = datetime.now(UTC)
    for e in batch:
        p = e.payload
        entry = await store.payer_entry(uow.session, e.org_id, p.payer_id)
        to = domain.e164(p.to_number) if p.to_number else (entry.phone if entry else None)
        staff = (await contacts_store.contacts(uow.session, e.org_id, [p.user_id])).get(p.user_id)
        ring = staff.phone if staff is not None and staff.active else None
        if p.to_number and to is None:
            refusal = "the number to call is not a phone number"
        elif to is None:
            refusal = "the payer directory has no provider-services number for this payer"
        elif not ring:
            refusal = "you have no phone number on your profile to ring first (People)"
        else:
            decision = await _consent(uow, e.org_id, "voice", to, now)
            refusal = None if decision.allowed else decision.basis
        await _record(uow, e, {
            "id": p.interaction_id, "org_id": e.org_id, "task_id": p.task_id, "channel": "voice",
            "direction": "outbound", "status": "refused" if refusal else "pending",
            "payer_id": p.payer_id, "user_id": p.user_id, "counterpart": to,
            "staff_number": ring, "claim_number": p.claim_number, "refusal": refusal,
            "started_at": now, "ended_at": now if refusal else None,
            "next_attempt_at": None if refusal else now, "event_id": e.event_id})


def _address(channel: str, raw: str | None) -> str | None:
    if raw is None:
        return None
    if channel == "sms":
        return domain.e164(raw)
    try:
        return validate_email(raw, check_deliverability=False, test_environment=True).normalized
    except EmailNotValidError:
        return None


async def message_requested(batch: list[Envelope[MessageRequested]], uow: UnitOfWork) -> None:
    """Record an SMS or e-mail to send; its text carries the task's reference (WQ-…), by
    which a reply finds the task."""
    now = datetime.now(UTC)
    for e in batch:
        p = e.payload
        ref = domain.task_reference(p.task_id)
        subject, body = p.subject, p.body
        refusal, to = None, None
        if p.channel not in ("sms", "email"):
            refusal = f"unknown channel {p.channel[:20]!r}: sms or email"
        else:
            entry = await store.payer_entry(uow.session, e.org_id, p.payer_id)
            given = p.to_address if p.to_address else (
                (entry.phone if p.channel == "sms" else entry.email) if entry else None)
            to = _address(p.channel, given)
            word = "number" if p.channel == "sms" else "e-mail address"
            if given is None:
                refusal = f"the payer directory has no {word} for this payer"
            elif to is None:
                refusal = f"the {word} to send to is not valid"
            elif p.channel == "sms":
                if ref not in body:
                    body = f"{body} [{ref}]"
                if len(body) > SMS_MAX:
                    refusal = f"an SMS is at most {SMS_MAX} characters"
                else:
                    decision = await _consent(uow, e.org_id, "sms", to, now)
                    refusal = None if decision.allowed else decision.basis
            else:
                subject = subject or "About your claim"
                if ref not in subject:
                    subject = f"{subject} [{ref}]"
        await _record(uow, e, {
            "id": p.interaction_id, "org_id": e.org_id, "task_id": p.task_id,
            "channel": p.channel if p.channel in ("sms", "email") else "sms",
            "direction": "outbound", "status": "refused" if refusal else "pending",
            "payer_id": p.payer_id, "user_id": p.user_id, "counterpart": to,
            "claim_number": p.claim_number, "subject": subject, "body": body,
            "refusal": refusal, "started_at": now, "ended_at": now if refusal else None,
            "next_attempt_at": None if refusal else now, "event_id": e.event_id})


OUTCOME_FIELDS = ("reference_number", "claim_status", "promised_payment_date",
                  "missing_information", "next_step", "follow_up_date")


async def _own(uow: UnitOfWork, e: Envelope, interaction_id):
    """The org's interaction, locked; None (logged) for an unknown id or another org's."""
    row = await store.interaction_by_id(uow.session, interaction_id, lock=True)
    if row is None or row.org_id != e.org_id:
        log.warning("payer_interaction_not_found", interaction_id=str(interaction_id),
                    event_type=e.event_type)
        return None
    return row


async def outcome_recorded(batch: list[Envelope[InteractionOutcomeRecorded]], uow: UnitOfWork) -> None:
    """Keep what came of an interaction (field by field; a null leaves a field as it was)."""
    for e in batch:
        p = e.payload
        row = await _own(uow, e, p.interaction_id)
        if row is None or row.task_id != p.task_id:
            continue
        changes = {f: getattr(p, f) for f in OUTCOME_FIELDS if getattr(p, f) is not None}
        if p.carc_codes:
            changes["carc_codes"] = list(p.carc_codes)
        if not changes:
            continue
        await announce(uow, await store.update_interaction(uow.session, row.id, **changes), cause=e)
        log.info("payer_interaction_outcome", interaction_id=str(row.id), fields=sorted(changes))


async def attached(batch: list[Envelope[InteractionAttached]], uow: UnitOfWork) -> None:
    """An inbound item from triage (or another task) now belongs to this task."""
    for e in batch:
        p = e.payload
        row = await _own(uow, e, p.interaction_id)
        if row is None or row.direction != "inbound" or row.task_id == p.task_id:
            continue
        changes = {"task_id": p.task_id, "user_id": p.user_id}
        if p.payer_id and row.payer_id is None:
            changes["payer_id"] = p.payer_id
        await announce(uow, await store.update_interaction(uow.session, row.id, **changes), cause=e)
        log.info("payer_interaction_attached", interaction_id=str(row.id), task_id=str(p.task_id))


HANDLERS = {CallRequested: call_requested, MessageRequested: message_requested,
            InteractionOutcomeRecorded: outcome_recorded, InteractionAttached: attached}
