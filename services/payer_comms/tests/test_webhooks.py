"""Twilio's webhooks on payer_comms's real API and PostgreSQL, the real twilio SDK placing
calls and messages on a local server that speaks the Calls and Messages APIs and signs its
callbacks as Twilio does: a call's states end as one interaction that only moves forward;
a forged or unsigned webhook is refused with 403 and stores nothing; a callback for an
unknown call is refused and kept; an inbound SMS finds its task or lands in triage; STOP
revokes consent at once with one confirmation."""
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from common import events
from common.consumer import handle_now
from common.events.generated import (
    CallRequested,
    InteractionAttached,
    InteractionOutcomeRecorded,
    MessageRequested,
    UserUpserted,
)
from common.runtime import create_api
from services.payer_comms import delivery, domain, handlers
from services.payer_comms.adapters.smtp_email import SmtpEmail
from services.payer_comms.adapters.twilio_sms import TwilioSms
from services.payer_comms.app import SERVICE
from services.payer_comms.interactions import directory, sender, store
from services.payer_comms.interactions import handlers as ih
from services.payer_comms.tests.local_servers import FakeTwilio, LocalSmtp

PUBLIC = "http://payer-comms.test"
ALL = {**handlers.HANDLERS, **handlers.DIRECTORY_HANDLERS, **ih.HANDLERS}
FAST = delivery.Retry(base_s=0.0, max_s=0.0, max_attempts=3)
AETNA = "+18005550101"


@pytest.fixture(scope="module")
def outside():
    tw, smtp = FakeTwilio().start(), LocalSmtp().start()
    yield tw, smtp
    tw.stop()
    smtp.stop()


@pytest.fixture(scope="module")
async def api(migrate, outside):
    settings = migrate(SERVICE, public_url=PUBLIC, twilio_auth_token=outside[0].auth_token,
                       inbound_default_org="pc-default")
    await directory.seed(settings, directory.read(directory.BUILT_IN))
    app = create_api(SERVICE, settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as c:
        c.ctx = app.state.ctx
        yield c


def outbound(tw, smtp) -> sender.Outbound:
    twilio = TwilioSms(account_sid="AC" + "1" * 32, auth_token=tw.auth_token,
                       from_number="+15005550006", base_url=tw.url)
    return sender.Outbound(dialer=twilio, sms=twilio, public_url=PUBLIC,
                           email=SmtpEmail(host="127.0.0.1", port=smtp.port, sender="billing@wq.test"))


async def deliver(ctx, payload, org):
    env = events.envelope(payload, org_id=org, producer="test")
    return await handle_now(service="payer_comms", sessions=ctx.sessions, outbox=ctx.outbox,
                            processed=ctx.processed, env=env, handler=ALL[type(payload)], via="test")


async def org_with_biller(ctx) -> str:
    org = f"wh-{uuid.uuid4().hex[:6]}"
    await deliver(ctx, UserUpserted(user_id="biller", name="B", roles=["biller"],
                                    email="b@clinic.test", phone="+15555550199"), org)
    return org


async def post(api, url_params_headers):
    url, params, headers = url_params_headers
    return await api.post(url.removeprefix(PUBLIC), data=params, headers=headers)


async def states(ctx, interaction_id) -> list[tuple[int, str]]:
    async with ctx.sessions() as s:
        rows = (await s.execute(sa.select(ctx.outbox.c.value).order_by(ctx.outbox.c.id))).scalars()
    return [(e.payload.revision, e.payload.status) for e in map(events.decode, rows)
            if e.event_type == "PayerInteractionLogged" and e.payload.interaction_id == interaction_id]


async def test_a_bridged_call_and_its_callbacks_end_as_one_interaction(api, outside):
    tw, smtp = outside
    ctx = api.ctx
    org = await org_with_biller(ctx)
    req = CallRequested(interaction_id=uuid.uuid4(), task_id=uuid.uuid4(), user_id="biller",
                        payer_id="aetna")
    await deliver(ctx, req, org)
    assert await sender.send_due(ctx, outbound(tw, smtp), FAST, batch=10, timeout=10) >= 1
    async with ctx.sessions() as s:
        sid = (await store.interaction_by_id(s, req.interaction_id)).provider_sid
    call = next(c for c in tw.calls if c.sid == sid)
    assert call.to == "+15555550199"
    assert f"<Number>{AETNA}</Number>" in call.twiml and 'callerId="+15005550006"' in call.twiml
    assert call.status_callback == f"{PUBLIC}/twilio/voice/status"
    for status in ("initiated", "ringing", "in-progress"):
        assert (await post(api, tw.status_update(call.sid, status))).status_code == 204
    r = await post(api, tw.status_update(call.sid, "completed", CallDuration="184"))
    assert r.status_code == 204
    # late and repeated callbacks change nothing
    for status in ("ringing", "completed"):
        assert (await post(api, tw.status_update(call.sid, status, CallDuration="1"))).status_code == 204
    async with ctx.sessions() as s:
        row = await store.interaction_by_id(s, req.interaction_id)
        kept = (await s.execute(sa.select(sa.func.count()).select_from(store.callback).where(
            store.callback.c.provider_sid == call.sid))).scalar_one()
    assert (row.status, row.duration_s, row.provider_sid, row.recording_url) == (
        "completed", 184, call.sid, None)
    assert kept == 4  # each (sid, status) once: the late ringing and completed repeat earlier ones
    assert await states(ctx, req.interaction_id) == [
        (1, "pending"), (2, "queued"), (3, "initiated"), (4, "ringing"), (5, "in-progress"),
        (6, "completed")]


async def test_a_forged_or_unsigned_webhook_is_refused_and_stores_nothing(api, outside):
    tw, _ = outside
    ctx = api.ctx
    sid = "CA" + uuid.uuid4().hex
    tw.callbacks[sid] = f"{PUBLIC}/twilio/voice/status"
    url, params, headers = tw.status_update(sid, "completed")
    forged = {"X-Twilio-Signature": "x" + headers["X-Twilio-Signature"][1:]}
    tampered = dict(params, CallStatus="failed")
    for p, h in ((params, forged), (params, {}), (tampered, headers)):
        r = await api.post("/twilio/voice/status", data=p, headers=h)
        assert r.status_code == 403 and "X-Twilio-Signature" in r.json()["detail"]
    url, params, headers = tw.inbound_sms(f"{PUBLIC}/twilio/sms/inbound", sender=AETNA, body="hi")
    r = await api.post("/twilio/sms/inbound", data=params, headers={"X-Twilio-Signature": "bad"})
    assert r.status_code == 403
    async with ctx.sessions() as s:
        n = (await s.execute(sa.select(sa.func.count()).select_from(store.callback).where(
            store.callback.c.provider_sid == sid))).scalar_one()
        inbound = await store.interaction_by_sid(s, params["MessageSid"])
    assert n == 0 and inbound is None
    # signed, but for a call nobody placed: refused, and kept for a person to look into
    r = await post(api, tw.status_update(sid, "completed"))
    assert r.status_code == 404 and sid in r.json()["detail"]
    async with ctx.sessions() as s:
        n = (await s.execute(sa.select(sa.func.count()).select_from(store.callback).where(
            store.callback.c.provider_sid == sid))).scalar_one()
    assert n == 1
    # a signed body that is not a callback at all
    url = f"{PUBLIC}/twilio/sms/status"
    r = await api.post("/twilio/sms/status", data={"x": "1"}, headers=tw.signed(url, {"x": "1"}))
    assert r.status_code == 422


async def test_an_inbound_sms_finds_its_task_and_an_unknown_one_lands_in_triage(api, outside):
    tw, smtp = outside
    ctx = api.ctx
    org = await org_with_biller(ctx)
    task, other = uuid.uuid4(), uuid.uuid4()
    for t, claim in ((task, "CLM-7001"), (other, "CLM-7002")):
        await deliver(ctx, MessageRequested(interaction_id=uuid.uuid4(), task_id=t, user_id="biller",
                                            payer_id="uhc", channel="sms", claim_number=claim,
                                            body=f"Status of claim {claim}?"), org)
    await sender.send_due(ctx, outbound(tw, smtp), FAST, batch=10, timeout=10)
    inbound = f"{PUBLIC}/twilio/sms/inbound"
    r = await post(api, tw.inbound_sms(inbound, sender="+18005550102",
                                       body="Claim CLM-7002 reprocessed, pays in 10 days"))
    assert r.status_code == 200 and r.text.startswith("<?xml") and "<Message>" not in r.text
    r2 = await post(api, tw.inbound_sms(inbound, sender="+15555550777", body="who is this?"))
    assert r2.status_code == 200
    async with ctx.sessions() as s:
        on_other = [r for r in await store.of_task(s, org, other) if r.direction == "inbound"]
        on_task = [r for r in await store.of_task(s, org, task) if r.direction == "inbound"]
        triage = await store.triage(s, "pc-default")
    assert [(r.channel, r.status, r.payer_id) for r in on_other] == [("sms", "received", "uhc")]
    assert on_task == []
    assert [r.counterpart for r in triage] == ["+15555550777"]
    # Twilio posting the same inbound message again records it once
    url, params, headers = tw.inbound_sms(inbound, sender="+15555550777", body="who is this?",
                                          sid=triage[0].provider_sid)
    assert (await api.post("/twilio/sms/inbound", data=params, headers=headers)).status_code == 200
    async with ctx.sessions() as s:
        assert len(await store.triage(s, "pc-default")) == 1


async def test_stop_revokes_consent_at_once_with_one_confirmation(api, outside):
    tw, _ = outside
    ctx = api.ctx
    org = await org_with_biller(ctx)
    mobile = "+15555550142"
    async with ctx.sessions() as s, s.begin():
        await store.add_consent(s, org_id=org, number=mobile, channel="sms", source="written form",
                                given_at=datetime.now(UTC) - timedelta(days=1))
    inbound = f"{PUBLIC}/twilio/sms/inbound"
    first = await post(api, tw.inbound_sms(inbound, sender=mobile, body="STOP"))
    second = await post(api, tw.inbound_sms(inbound, sender=mobile, body="stop"))
    assert domain.REVOCATION_CONFIRMATION in first.text
    assert "<Message>" not in second.text  # at most one confirmation
    req = MessageRequested(interaction_id=uuid.uuid4(), task_id=uuid.uuid4(), user_id="biller",
                           payer_id="aetna", channel="sms", body="x", to_address=mobile)
    await deliver(ctx, req, org)
    async with ctx.sessions() as s:
        row = await store.interaction_by_id(s, req.interaction_id)
    assert row.status == "refused" and "revoked" in row.refusal


async def test_an_outcome_is_kept_on_its_interaction_and_triage_items_are_attached(api, outside):
    tw, smtp = outside
    ctx = api.ctx
    org = await org_with_biller(ctx)
    task = uuid.uuid4()
    call = CallRequested(interaction_id=uuid.uuid4(), task_id=task, user_id="biller", payer_id="cigna")
    await deliver(ctx, call, org)
    outcome = InteractionOutcomeRecorded(
        interaction_id=call.interaction_id, task_id=task, user_id="biller",
        reference_number="REF-88812", claim_status="in process", next_step="resubmit with modifier 25",
        promised_payment_date=date(2026, 3, 20), follow_up_date=date(2026, 3, 23),
        carc_codes=["CO-197"])
    await deliver(ctx, outcome, org)
    # another org naming this interaction changes nothing
    await deliver(ctx, InteractionOutcomeRecorded(interaction_id=call.interaction_id, task_id=task,
                                                  user_id="x", reference_number="EVIL"), "other-org")
    # a later record with only a reference number keeps the rest
    await deliver(ctx, InteractionOutcomeRecorded(interaction_id=call.interaction_id, task_id=task,
                                                  user_id="biller", reference_number="REF-88813"), org)
    async with ctx.sessions() as s:
        row = await store.interaction_by_id(s, call.interaction_id)
    assert (row.reference_number, row.next_step, row.follow_up_date, list(row.carc_codes)) == (
        "REF-88813", "resubmit with modifier 25", date(2026, 3, 23), ["CO-197"])
    assert [r for r, _ in await states(ctx, call.interaction_id)] == [1, 2, 3]
    # an unmatched inbound SMS, attached by a person
    r = await post(api, tw.inbound_sms(f"{PUBLIC}/twilio/sms/inbound", sender="+15555550888",
                                       body="Calling about a claim"))
    assert r.status_code == 200
    async with ctx.sessions() as s:
        item = next(x for x in await store.triage(s, "pc-default") if x.counterpart == "+15555550888")
    await deliver(ctx, InteractionAttached(interaction_id=item.id, task_id=task, user_id="biller",
                                           payer_id="cigna"), org)  # not org's: ignored
    await deliver(ctx, InteractionAttached(interaction_id=item.id, task_id=task, user_id="biller",
                                           payer_id="cigna"), "pc-default")
    async with ctx.sessions() as s:
        row = await store.interaction_by_id(s, item.id)
    assert (row.task_id, row.payer_id, row.user_id) == (task, "cigna", "biller")
