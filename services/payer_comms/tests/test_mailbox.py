"""Inbound e-mail through a real SMTP dialogue (smtplib → the aiosmtpd listener) on the real
PostgreSQL: a reply to our e-mail finds its task by its thread, one naming a claim finds
it by the claim, an unknown one lands in triage; a message over the limit is refused in
the dialogue (552) and stores nothing; the same Message-ID twice is one item."""
import asyncio
import smtplib
import uuid
from email.message import EmailMessage

import pytest

from common import events
from common.consumer import handle_now
from common.events.generated import MessageRequested, UserUpserted
from common.localstack import free_port
from services.payer_comms import delivery, handlers
from services.payer_comms.adapters.smtp_email import SmtpEmail
from services.payer_comms.adapters.twilio_sms import TwilioSms
from services.payer_comms.app import SERVICE
from services.payer_comms.interactions import directory, mailbox, sender, store
from services.payer_comms.interactions import handlers as ih
from services.payer_comms.tests.local_servers import FakeTwilio, LocalSmtp

ALL = {**handlers.HANDLERS, **handlers.DIRECTORY_HANDLERS, **ih.HANDLERS}


@pytest.fixture(scope="module")
async def ctx(migrate):
    settings = migrate(SERVICE, inbound_smtp_port=free_port(), inbound_email_max_bytes=100_000,
                       inbound_default_org="mb-default")
    await directory.seed(settings, directory.read(directory.BUILT_IN))
    c = SERVICE.context(settings)
    listener = asyncio.create_task(mailbox.serve(c))
    await asyncio.sleep(0.2)
    yield c
    listener.cancel()
    await c.engine.dispose()


def send(port: int, msg: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.send_message(msg)


def mail(frm: str, subject: str, body: str, **headers) -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = frm, "billing@wq.test", subject
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content(body)
    return m


async def test_replies_find_their_task_and_strangers_land_in_triage(ctx):
    org = f"mb-{uuid.uuid4().hex[:6]}"
    env = events.envelope(UserUpserted(user_id="b", name="B", roles=["biller"]), org_id=org, producer="t")
    await handle_now(service="payer_comms", sessions=ctx.sessions, outbox=ctx.outbox,
                     processed=ctx.processed, env=env, handler=ALL[UserUpserted], via="test")
    tasks = [uuid.uuid4(), uuid.uuid4()]
    for t, claim in zip(tasks, ("CLM-8101", "CLM-8102"), strict=True):
        req = MessageRequested(interaction_id=uuid.uuid4(), task_id=t, user_id="b", payer_id="tricare",
                               channel="email", subject="Appeal", body="Please advise.",
                               claim_number=claim)
        env = events.envelope(req, org_id=org, producer="t")
        await handle_now(service="payer_comms", sessions=ctx.sessions, outbox=ctx.outbox,
                         processed=ctx.processed, env=env, handler=ALL[MessageRequested], via="test")
    smtp, tw = LocalSmtp().start(), FakeTwilio().start()  # never the internet
    try:
        twilio = TwilioSms(account_sid="AC1", auth_token="t", from_number="+15005550006",
                           base_url=tw.url)
        out = sender.Outbound(dialer=twilio, sms=twilio, public_url="http://x",
                              email=SmtpEmail(host="127.0.0.1", port=smtp.port, sender="billing@wq.test"))
        await sender.send_due(ctx, out, delivery.Retry(), batch=10, timeout=10)
    finally:
        smtp.stop()
        tw.stop()
    async with ctx.sessions() as s:
        first = (await store.of_task(s, org, tasks[0]))[0]
    port = ctx.settings.inbound_smtp_port
    payer = "provider-services@tricare-east.payer.test"
    reply = mail(payer, "Re: Appeal", "Received, in review.", In_Reply_To=first.thread_id,
                 Message_ID=f"<r1-{uuid.uuid4().hex}@tricare.test>")
    by_claim = mail(payer, "claim CLM-8102", "Paid on 3/20.")
    stranger = mail("someone@elsewhere.test", "Hello", "Do you have a minute?")
    big = mail(payer, "Records", "x" * 200_000)
    await asyncio.to_thread(send, port, reply)
    await asyncio.to_thread(send, port, reply)  # a relay sending it twice
    await asyncio.to_thread(send, port, by_claim)
    await asyncio.to_thread(send, port, stranger)
    with pytest.raises(smtplib.SMTPException) as refused:
        await asyncio.to_thread(send, port, big)
    assert "552" in str(refused.value) or getattr(refused.value, "smtp_code", 0) == 552
    async with ctx.sessions() as s:
        on = {t: [r for r in await store.of_task(s, org, t) if r.direction == "inbound"] for t in tasks}
        triage = await store.triage(s, "mb-default")
    assert [(r.subject, r.body.strip()) for r in on[tasks[0]]] == [("Re: Appeal", "Received, in review.")]
    assert [r.body.strip() for r in on[tasks[1]]] == ["Paid on 3/20."]
    assert [r.counterpart for r in triage] == ["someone@elsewhere.test"]
    assert not any("Records" == (r.subject or "") for t in tasks for r in on[t])
