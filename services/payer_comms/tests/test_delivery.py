"""Alert delivery on the real PostgreSQL, the real twilio SDK and smtplib, against local
servers speaking Twilio's Messages API and SMTP: delivered once, retried with backoff after
provider failures (each attempt recorded), suppressed or unaddressable settled at once."""
import uuid

import pytest
import sqlalchemy as sa

from common import events
from common.consumer import handle_now
from common.events.generated import AlertRequested, UserUpserted
from services.payer_comms import delivery, handlers, store
from services.payer_comms.adapters import PermanentFailure
from services.payer_comms.adapters.smtp_email import SmtpEmail
from services.payer_comms.adapters.twilio_sms import TwilioSms
from services.payer_comms.app import SERVICE
from services.payer_comms.tests.local_servers import FakeTwilio, LocalSmtp

FAST = delivery.Retry(base_s=0.0, max_s=0.0, max_attempts=4)


@pytest.fixture(scope="module")
def servers():
    tw, smtp = FakeTwilio().start(), LocalSmtp().start()
    yield tw, smtp
    tw.stop()
    smtp.stop()


@pytest.fixture(scope="module")
async def ctx(migrate):
    c = SERVICE.context(migrate(SERVICE))
    yield c
    await c.engine.dispose()


def senders(tw, smtp):
    return delivery.Senders(
        sms=TwilioSms(account_sid="AC123", auth_token="t", from_number="+15005550006", base_url=tw.url),
        email=SmtpEmail(host="127.0.0.1", port=smtp.port, sender="alerts@wq.test"))


async def deliver(ctx, payload, org):
    env = events.envelope(payload, org_id=org, producer="test")
    handler = {**handlers.HANDLERS, **handlers.DIRECTORY_HANDLERS}[type(payload)]
    return await handle_now(service="payer_comms", sessions=ctx.sessions, outbox=ctx.outbox,
                            processed=ctx.processed, env=env, handler=handler, via="test")


def alert(recipients, **kw) -> AlertRequested:
    return AlertRequested(**{**dict(alert_id=uuid.uuid4(), kind="escalation", task_id=uuid.uuid4(),
                                    level=1, recipient_user_ids=recipients, channels=["sms", "email"],
                                    subject="SLA breach, level 1", body="Task x missed its SLA"), **kw})


async def drain(ctx, tw, smtp):
    while await delivery.deliver_due(ctx, senders(tw, smtp), FAST, batch=10, timeout=10):
        pass


async def sent_events(ctx, alert_id) -> list:
    async with ctx.sessions() as s:
        values = (await s.execute(sa.select(store.outbox.c.value).order_by(store.outbox.c.id))).scalars()
    return [e.payload for e in map(events.decode, values)
            if e.event_type == "AlertSent" and e.payload.alert_id == alert_id]


async def test_an_alert_reaches_sms_and_email_once_even_after_two_sms_failures(ctx, servers):
    tw, smtp = servers
    org = f"pc-{uuid.uuid4().hex[:6]}"
    await deliver(ctx, UserUpserted(user_id="pm", name="PM", roles=["practice_manager"],
                                    email="pm@clinic.test", phone="+15550001"), org)
    a = alert(["pm"])
    tw.fail_next = 2
    await deliver(ctx, a, org)
    await deliver(ctx, a, org)  # the same alert requested again: delivered once
    await drain(ctx, tw, smtp)
    sms = [m for m in tw.messages if m.to == "+15550001"]
    assert [(m.body, m.account_sid, m.from_) for m in sms] == [(a.body, "AC123", "+15005550006")]
    mail = [m for m in smtp.mails if m.to == ["pm@clinic.test"]]
    assert [(m.subject, m.body.strip()) for m in mail] == [(a.subject, a.body)]
    async with ctx.sessions() as s:
        rows = (await s.execute(sa.select(store.delivery).where(store.delivery.c.alert_id == a.alert_id)
                                .order_by(store.delivery.c.channel))).all()
        attempts = (await s.execute(sa.select(store.delivery_attempt.c.ok).where(
            store.delivery_attempt.c.delivery_id == rows[1].id).order_by(store.delivery_attempt.c.id))).scalars().all()
    assert [(r.channel, r.status, r.attempts) for r in rows] == [("email", "sent", 1), ("sms", "sent", 3)]
    assert attempts == [False, False, True]
    sent = await sent_events(ctx, a.alert_id)
    assert sorted((e.channel, e.outcome, e.attempts) for e in sent) == [("email", "sent", 1), ("sms", "sent", 3)]
    assert next(e for e in sent if e.channel == "sms").provider_message_id == sms[0].sid


async def test_giving_up_suppression_and_missing_addresses(ctx, servers):
    tw, smtp = servers
    org = f"pc-{uuid.uuid4().hex[:6]}"
    await deliver(ctx, UserUpserted(user_id="a", name="A", roles=["org_admin"], phone="+15550002"), org)
    a = alert(["a", "ghost"], channels=["sms", "email"])
    tw.fail_next = 10
    await deliver(ctx, a, org)
    await drain(ctx, tw, smtp)
    tw.fail_next = 0
    outcomes = sorted((e.user_id, e.channel, e.outcome, e.attempts) for e in await sent_events(ctx, a.alert_id))
    assert outcomes == [("a", "email", "no_address", 0), ("a", "sms", "failed", 4),
                        ("ghost", "email", "no_address", 0), ("ghost", "sms", "no_address", 0)]
    quiet = alert(["a"], suppressed_by="upgrade-window")
    before = len(tw.messages)
    await deliver(ctx, quiet, org)
    await drain(ctx, tw, smtp)
    assert len(tw.messages) == before
    assert {(e.channel, e.outcome) for e in await sent_events(ctx, quiet.alert_id)} == \
        {("sms", "suppressed"), ("email", "suppressed")}


async def test_twilio_refusing_a_number_is_not_retried(servers):
    tw, _ = servers
    sms = TwilioSms(account_sid="AC123", auth_token="t", from_number="+1", base_url=tw.url + "/nowhere")
    with pytest.raises(PermanentFailure, match="HTTP 404"):
        await sms.send_sms(to="+15550003", body="x")


def test_backoff_doubles_up_to_a_cap():
    r = delivery.Retry(base_s=2, max_s=10, max_attempts=6)
    assert [r.delay(n).total_seconds() for n in (1, 2, 3, 4)] == [2, 4, 8, 10]
