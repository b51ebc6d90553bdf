"""Twilio's webhooks into payer_comms: the status callbacks of calls and messages we
placed, and inbound SMS. Each is accepted only with a valid ``X-Twilio-Signature`` (the
SDK's ``RequestValidator`` over the public URL Twilio was given and the posted form);
forged or unsigned → 403 and nothing stored. A callback is kept as it came (once per sid
and status) and moves its interaction forward, never back; an inbound SMS becomes an
inbound interaction, matched to its task or left in triage, and a revocation word revokes
the number's consent at once with one confirmation."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from common import logs
from services.payer_comms import domain
from services.payer_comms.interactions import store
from services.payer_comms.interactions.handlers import announce

log = logs.get(__name__)
INBOUND = uuid.UUID("6f1c3d0e-7a52-4d8b-9a61-3b2f0c9e4d17")  # ids of inbound items, by provider sid
FIELD_MAX = 2000
BODY_MAX = 20000


async def signed_form(request: Request) -> dict[str, str]:
    """The posted form, if Twilio signed it; else 403. The URL checked is the public one
    (``PAYER_COMMS_PUBLIC_URL``), as Twilio signed what it was told to call."""
    settings = request.app.state.ctx.settings
    form = await request.form()
    params = {k: v for k, v in form.items() if isinstance(v, str)}
    url = settings.public_url.rstrip("/") + request.url.path + (
        f"?{request.url.query}" if request.url.query else "")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not RequestValidator(settings.twilio_auth_token).validate(url, params, signature):
        log.warning("twilio_signature_refused", path=request.url.path)
        raise HTTPException(403, "X-Twilio-Signature is missing or does not match this request")
    too_long = [k for k, v in params.items() if len(v) > (BODY_MAX if k == "Body" else FIELD_MAX)]
    if too_long:
        raise HTTPException(422, f"{too_long[0][:40]}: too long")
    return params


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 9 else None


async def _status(request: Request, *, sid_field: str, status_field: str, channel_of) -> Response:
    params = await signed_form(request)
    sid, status = params.get(sid_field, ""), params.get(status_field, "").lower()
    if not sid or not status:
        raise HTTPException(422, f"{sid_field} and {status_field} are required")
    ctx = request.app.state.ctx
    now = datetime.now(UTC)
    async with ctx.unit_of_work() as uow:
        row = await store.interaction_by_sid(uow.session, sid, lock=True)
        fresh = await store.record_callback(uow.session, interaction_id=row.id if row else None,
                                            provider_sid=sid[:64], status=status[:32], at=now,
                                            params=params)
        if row is None:  # kept (signed, so real) for someone to look into; refused below
            log.warning("twilio_callback_unknown", channel=channel_of, status=status[:32])
        elif fresh and domain.moves_forward(row.channel, row.status, status):
            changes: dict = {"status": status}
            finals = domain.CALL_FINAL if row.channel == "voice" else domain.MESSAGE_FINAL
            if status in finals:
                changes["ended_at"] = now
                if row.channel == "voice":
                    changes["duration_s"] = _int(params.get("CallDuration"))
                    if ctx.settings.record_calls and params.get("RecordingUrl", "").startswith("https://"):
                        changes["recording_url"] = params["RecordingUrl"]
            if status in ("failed", "undelivered") and params.get("ErrorCode"):
                changes["refusal"] = f"the provider reported error {params['ErrorCode'][:12]}"
            new = await store.update_interaction(uow.session, row.id, **changes)
            await announce(uow, new)
            log.info("payer_interaction_status", interaction_id=str(row.id), status=status[:32])
    if row is None:
        raise HTTPException(404, f"no {channel_of} with sid {sid[:64]} here (the callback is kept)")
    return Response(status_code=204)


async def voice_status(request: Request) -> Response:
    """A call's states (initiated, ringing, answered, completed …) and its duration."""
    return await _status(request, sid_field="CallSid", status_field="CallStatus", channel_of="call")


async def sms_status(request: Request) -> Response:
    """A message's delivery states (queued, sent, delivered, undelivered, failed)."""
    return await _status(request, sid_field="MessageSid", status_field="MessageStatus",
                         channel_of="message")


async def sms_inbound(request: Request) -> Response:
    """An SMS to our number: an inbound interaction on its task (or in triage); STOP and
    the other revocation words revoke the sender's consent at once."""
    params = await signed_form(request)
    sid, sender, body = params.get("MessageSid", ""), domain.e164(params.get("From")), params.get("Body", "")
    if not sid or sender is None:
        raise HTTPException(422, "MessageSid and a From number are required")
    ctx = request.app.state.ctx
    now = datetime.now(UTC)
    reply = MessagingResponse()
    async with ctx.unit_of_work() as uow:
        iid = uuid.uuid5(INBOUND, sid)
        if await store.interaction_by_id(uow.session, iid) is None:  # Twilio may post it twice
            if domain.is_revocation(body):
                n = await store.revoke_consents(uow.session, org_id=None, number=sender,
                                                channel=None, at=now, by="sms")
                if n:
                    reply.message(domain.REVOCATION_CONFIRMATION)
                log.info("consent_revoked_by_sms", interaction_id=str(iid), consents=n)
            org_id, task_id, payer_id = await place(uow.session, sender, body,
                                                    default_org=ctx.settings.inbound_default_org)
            await store.add_interaction(uow.session, {
                "id": iid, "org_id": org_id, "task_id": task_id, "channel": "sms",
                "direction": "inbound", "status": "received", "payer_id": payer_id,
                "counterpart": sender, "provider_sid": sid[:64], "body": body,
                "started_at": now, "ended_at": now})
            await announce(uow, await store.interaction_by_id(uow.session, iid))
            log.info("payer_interaction_inbound", interaction_id=str(iid), channel="sms",
                     matched=task_id is not None)
    return Response(str(reply), media_type="application/xml")


async def place(session, counterpart: str, *texts: str | None, default_org: str,
                thread_task_id: str | None = None) -> tuple[str, uuid.UUID | None, str | None]:
    """(org, task or None, payer) of an inbound item from ``counterpart``: the org that
    last reached out to it (else the default org), and its task if one matches."""
    found = await store.open_candidates(session, None, counterpart)
    if not found:
        return default_org, None, None
    org = max(found, key=lambda r: r.last_outbound_at).org_id
    mine = [r for r in found if r.org_id == org]
    task = domain.match(domain.clues(*texts), [
        domain.Candidate(str(r.task_id), r.payer_id, r.claim_number, r.last_outbound_at)
        for r in mine], thread_task_id=thread_task_id)
    payer = next((r.payer_id for r in mine if str(r.task_id) == task), mine[0].payer_id)
    return org, uuid.UUID(task) if task else None, payer


def router() -> APIRouter:
    """payer_comms: Twilio's webhooks (signed); nothing else is public."""
    r = APIRouter(prefix="/twilio", tags=["twilio"])
    r.add_api_route("/voice/status", voice_status, methods=["POST"], status_code=204,
                    summary="Twilio call status callback (signed)")
    r.add_api_route("/sms/status", sms_status, methods=["POST"], status_code=204,
                    summary="Twilio message status callback (signed)")
    r.add_api_route("/sms/inbound", sms_inbound, methods=["POST"],
                    summary="Twilio inbound SMS webhook (signed); answers TwiML")
    return r
