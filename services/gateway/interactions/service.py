"""Calls, texts and e-mails to payers from a task, what came of them, and triage.

Staff ask here; payer_comms checks consent, places or sends, and announces each state as
PayerInteractionLogged, which this module keeps (the highest revision wins) and writes to
the task's history and the audit log. An outcome becomes a note and, with a follow-up date,
a follow-up sub-task, in the same transaction as the InteractionOutcomeRecorded it sends."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

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
from services.gateway.audit import store as audit_store
from services.gateway.auth import User
from services.gateway.errors import Conflict, Invalid, NotFound
from services.gateway.interactions import store
from services.gateway.interactions.models import MessageIn, OutcomeIn
from services.gateway.tasks import actions
from services.gateway.tasks import store as task_store

log = logs.get(__name__)
CHANNEL_WORDS = {"voice": "Call", "sms": "SMS", "email": "E-mail"}


def _now() -> datetime:
    return datetime.now(UTC)


def claim_number(task_row) -> str | None:
    return (task_row.details or {}).get("claim_id") or None


async def _payer_task(uow: UnitOfWork, user: User, task_id: uuid.UUID):
    row = await actions.locked(uow, user, task_id)
    if not row.payer_id:
        raise Invalid("task: this task has no payer to contact")
    return row


async def _requested(uow: UnitOfWork, user: User, row, interaction_id: uuid.UUID, channel: str,
                     detail: dict) -> None:
    await store.add_requested(uow.session, id=interaction_id, org_id=row.org_id, task_id=row.id,
                              channel=channel, direction="outbound", status="requested",
                              payer_id=row.payer_id, user_id=user.id, started_at=_now(),
                              carc_codes=list(row.reason_codes or []))
    await actions.record(uow, user, row, f"{channel}_requested",
                         {"interaction_id": str(interaction_id), **detail})


async def request_call(uow: UnitOfWork, user: User, task_id: uuid.UUID, *,
                       to_number: str | None) -> uuid.UUID:
    """'Call payer': payer_comms rings the user's phone and bridges it to the payer."""
    row = await _payer_task(uow, user, task_id)
    interaction_id = uuid.uuid4()
    await _requested(uow, user, row, interaction_id, "voice", {"own_number": bool(to_number)})
    await uow.emit(CallRequested(interaction_id=interaction_id, task_id=row.id, user_id=user.id,
                                 payer_id=row.payer_id, to_number=to_number,
                                 claim_number=claim_number(row)),
                   org_id=row.org_id, key=str(row.id))
    return interaction_id


async def request_message(uow: UnitOfWork, user: User, task_id: uuid.UUID,
                          body: MessageIn) -> uuid.UUID:
    """'Text' or 'E-mail': payer_comms sends it (an SMS only with consent) and logs it."""
    row = await _payer_task(uow, user, task_id)
    interaction_id = uuid.uuid4()
    await _requested(uow, user, row, interaction_id, body.channel,
                     {"own_address": bool(body.to_address)})
    await uow.emit(MessageRequested(
        interaction_id=interaction_id, task_id=row.id, user_id=user.id, payer_id=row.payer_id,
        channel=body.channel, to_address=body.to_address, subject=body.subject, body=body.body,
        claim_number=claim_number(row)), org_id=row.org_id, key=str(row.id))
    return interaction_id


def outcome_text(channel: str, payer: str | None, o: OutcomeIn) -> str:
    """The note an outcome becomes, in the words staff would write."""
    parts = [f"{CHANNEL_WORDS[channel]} with {payer or 'the payer'}"
             + (f", reference {o.reference_number}" if o.reference_number else "") + "."]
    if o.claim_status:
        parts.append(f"Claim status: {o.claim_status}.")
    if o.promised_payment_date:
        parts.append(f"Payment promised by {o.promised_payment_date.isoformat()}.")
    if o.missing_information:
        parts.append(f"Missing: {o.missing_information}.")
    if o.next_step:
        parts.append(f"Next step: {o.next_step}.")
    if o.follow_up_date:
        parts.append(f"Follow up on {o.follow_up_date.isoformat()}.")
    return " ".join(parts)


async def record_outcome(uow: UnitOfWork, user: User, interaction_id: uuid.UUID,
                         o: OutcomeIn) -> store.interaction:
    """Keep what came of an interaction on it, as a note on its task (naming the
    interaction) and, with a follow-up date, as a follow-up sub-task due that day; tell
    payer_comms (and so nba). A second outcome adds to the first, field by field."""
    it = await store.get(uow.session, user.org_id, interaction_id, for_update=True)
    if it is None:
        raise NotFound(f"interaction {interaction_id} not found", what="interaction")
    if it.task_id is None:
        raise Conflict("this interaction is in triage: attach it to a task first")
    if it.status == "refused":
        raise Conflict("this interaction was refused, nothing came of it: "
                       f"{it.refusal or 'see its refusal'}")
    row = await actions.locked(uow, user, it.task_id)
    given = {k: v for k, v in o.model_dump().items() if v not in (None, "")}
    note_id = await actions.add_note(uow, user, row.id,
                                     text=outcome_text(it.channel, row.payer_name, o))
    follow_up = it.follow_up_task_id
    if o.follow_up_date and o.follow_up_date != it.follow_up_date:
        what = o.next_step or "check the claim"
        follow_up = await actions.create_subtask(
            uow, user, row.id, title=f"Follow up with {row.payer_name or 'the payer'}: {what}"[:200],
            task_type="Follow-up", priority=None, owner_id=user.id, within_parent=False,
            due_at=datetime.combine(o.follow_up_date, datetime.max.time(), UTC))
    await store.update(uow.session, it.id, **given, outcome_by=user.id, outcome_at=_now(),
                       note_id=note_id, follow_up_task_id=follow_up)
    await actions.record(uow, user, row, "interaction_outcome", {
        "interaction_id": str(it.id), "note_id": str(note_id), "fields": sorted(given),
        "follow_up_task_id": str(follow_up) if follow_up else None})
    await uow.emit(InteractionOutcomeRecorded(
        interaction_id=it.id, task_id=row.id, user_id=user.id,
        carc_codes=list(row.reason_codes or [])[:50], **given), org_id=row.org_id, key=str(row.id))
    return await store.get(uow.session, user.org_id, it.id)


async def attach(uow: UnitOfWork, user: User, interaction_id: uuid.UUID,
                 task_id: uuid.UUID) -> None:
    """Attach an inbound item (from triage, or from the wrong task) to a task of the org."""
    it = await store.get(uow.session, user.org_id, interaction_id, for_update=True)
    if it is None:
        raise NotFound(f"interaction {interaction_id} not found", what="interaction")
    if it.direction != "inbound":
        raise Conflict("only an inbound call, text or e-mail can be attached: this one was "
                       "started from its task")
    if it.task_id == task_id:
        return
    row = await actions.locked(uow, user, task_id)
    await store.update(uow.session, it.id, task_id=row.id, user_id=user.id,
                       payer_id=it.payer_id or row.payer_id)
    await actions.record(uow, user, row, "interaction_attached", {
        "interaction_id": str(it.id), "channel": it.channel,
        "from_task_id": str(it.task_id) if it.task_id else None})
    await uow.emit(InteractionAttached(interaction_id=it.id, task_id=row.id, user_id=user.id,
                                       payer_id=row.payer_id), org_id=row.org_id, key=str(row.id))


# ---- PayerInteractionLogged from payer_comms ----------------------------------------

_FIELDS = ("task_id", "revision", "channel", "direction", "status", "payer_id", "user_id",
           "started_at", "ended_at", "duration_s", "summary", "refusal", "reference_number",
           "claim_status", "promised_payment_date", "missing_information", "next_step",
           "follow_up_date", "carc_codes", "recording_url")


async def interaction_logged(batch: list[Envelope[PayerInteractionLogged]], uow: UnitOfWork) -> None:
    """Keep each interaction's newest state; write a history row on its task (and an audit
    row) when it is new there, changes status or gets an outcome. A task id that is not the
    org's own is dropped: the item goes to the org's triage instead."""
    newest: dict[uuid.UUID, Envelope] = {}
    for e in batch:  # the highest revision of each interaction in the batch
        p = e.payload
        if p.interaction_id not in newest or newest[p.interaction_id].payload.revision < p.revision:
            newest[p.interaction_id] = e
    by_org: dict[str, list[Envelope]] = {}
    for e in newest.values():
        by_org.setdefault(e.org_id, []).append(e)
    for org_id, events in by_org.items():
        wanted = [e.payload.task_id for e in events if e.payload.task_id is not None]
        tasks = {t.id: t for t in await task_store.tasks_by_id(uow.session, org_id, wanted)} if wanted else {}
        rows = []
        for e in events:
            values = {f: getattr(e.payload, f) for f in _FIELDS}
            values["carc_codes"] = list(values["carc_codes"] or [])
            if values["task_id"] is not None and values["task_id"] not in tasks:
                log.warning("payer_interaction_task_unknown", interaction_id=str(e.payload.interaction_id))
                values["task_id"] = None
            rows.append({"id": e.payload.interaction_id, "org_id": org_id, **values})
        changed = await store.apply_logged(uow.session, rows)
        history, by_id = [], {r["id"]: (r, e) for r, e in zip(rows, events, strict=True)}
        for iid, (before, now) in changed.items():
            r, e = by_id[iid]
            task_row = tasks.get(now[1])
            if task_row is None or before == now:
                continue
            detail = {"interaction_id": str(iid), "channel": r["channel"],
                      "direction": r["direction"], "status": r["status"],
                      "revision": r["revision"], "duration_s": r["duration_s"],
                      "refusal": r["refusal"]}
            history.append({"task_id": task_row.id, "org_id": org_id, "at": e.occurred_at,
                            "actor": r["user_id"] or e.producer, "action": "payer_interaction",
                            "detail": detail, "event_id": e.event_id})
            await audit_store.audit(uow.session, org_id=org_id, actor_id=r["user_id"] or e.producer,
                                    action="payer_interaction", task_row=task_row, detail=detail)
        await task_store.add_history(uow.session, history)


HANDLERS = {PayerInteractionLogged: interaction_logged}


def message_templates(task_row) -> list[dict]:
    """Messages ready to send about this task, filled with its data (staff edit them)."""
    claim = claim_number(task_row) or task_row.source_id
    payer = task_row.payer_name or "the payer"
    amount = f" for ${task_row.amount:,.2f}" if task_row.amount is not None else ""
    codes = ", ".join(task_row.reason_codes or [])
    return [
        {"id": "status_sms", "label": "Claim status (SMS)", "channel": "sms", "subject": None,
         "body": f"Provider office asking about claim {claim}{amount}: what is its status and "
                 f"when will it be paid? Please reply to this number."},
        {"id": "status_email", "label": "Claim status (e-mail)", "channel": "email",
         "subject": f"Claim {claim}: status request",
         "body": f"Hello {payer} provider services,\n\nPlease tell us the status of claim "
                 f"{claim}{amount} and the expected payment date.\n\nThank you."},
        {"id": "reconsideration_email", "label": "Reconsideration request (e-mail)",
         "channel": "email", "subject": f"Claim {claim}: request for reconsideration",
         "body": f"Hello {payer} provider services,\n\nClaim {claim}{amount} was denied"
                 + (f" ({codes})" if codes else "") + ". We ask you to reconsider it; the "
                 "corrected information is attached or follows by fax.\n\nThank you."},
    ]

