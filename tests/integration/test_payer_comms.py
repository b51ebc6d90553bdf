"""Payer communications over the bus, every service a real process: a call placed from the
task's API, its signed status callbacks and the outcome prompt end as one interaction on
the task (history, audit, FHIR Communication); an SMS and an e-mail the same; inbound SMS
and e-mail matched to the right task, one matched to nothing lands in triage and is
attached by a person; a forged webhook answers 403 and stores nothing; a number without
consent is refused and the refusal shown; a SIGKILLed payer_comms worker mid-stream loses
and doubles no interaction. Twilio is the local FakeTwilio (signing its callbacks as Twilio
does), e-mail a local SMTP server and payer_comms's own SMTP listener."""
from __future__ import annotations

import asyncio
import signal
import smtplib
import uuid
from datetime import timedelta
from email.message import EmailMessage

import httpx
import pytest

from common import kafka
from common.settings import CommonSettings
from tests.integration.conftest import PASSWORD, denial, eventually, publish, utc_today

pytestmark = pytest.mark.integration
ORG = f"calls-{uuid.uuid4().hex[:6]}"
PAYER = {"payer_id": "tricare", "payer_name": "TRICARE East"}  # no other test contacts it
PAYER_LINE = "+18005550108"          # its provider-services line (payers.json): a business line
PAYER_EMAIL = "provider-services@tricare-east.payer.test"
BILLER_PHONE = "+15125550177"        # 555-01xx: fictional


def ref(task_id: str) -> str:
    return "WQ-" + task_id.replace("-", "")[:8]


@pytest.fixture(scope="module")
async def clinic(stack):
    await asyncio.to_thread(stack.seed_payers)
    users = [{"org_id": ORG, "email": f"{r}@{ORG}.test", "name": r.replace("_", " ").title(),
              "password": PASSWORD, "roles": [r], **({"phone": BILLER_PHONE} if r == "biller" else {})}
             for r in ("biller", "practice_manager")]
    await asyncio.to_thread(stack.seed_users, {"orgs": [{"id": ORG, "name": ORG}], "users": users})
    url = stack["gateway-api"].url
    tokens = {}
    async with httpx.AsyncClient(base_url=url, timeout=15) as anon:
        for u in users:
            r = await anon.post("/api/v1/auth/token", json={"email": u["email"], "password": PASSWORD})
            r.raise_for_status()
            tokens[u["roles"][0]] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    producer = kafka.producer(CommonSettings(), "integration-test")
    await producer.start()
    try:
        await publish(producer, [denial(source_id=f"D-{ORG}-{i}", claim_id=f"CLM-{ORG}-{i}", **PAYER)
                                 for i in range(40)], ORG)
    finally:
        await producer.stop()
    c = httpx.AsyncClient(base_url=url, headers=tokens["biller"], timeout=15)

    async def landed():
        r = await c.get("/api/v1/queue", params={"limit": 100})
        items = r.json()["items"] if r.status_code == 200 else []
        return sorted(items, key=lambda t: t["source_id"]) if len(items) == 40 else None

    tasks = await eventually(landed, timeout=60, every=0.3)
    yield {"c": c, "tasks": [t["id"] for t in tasks], "manager": tokens["practice_manager"],
           "api": stack["payer_comms-api"].url, "smtp_port": stack.port_of("payer_comms-smtp")}
    await c.aclose()


async def interactions(c, task_id: str) -> list[dict]:
    r = await c.get(f"/api/v1/tasks/{task_id}/interactions")
    r.raise_for_status()
    return r.json()


async def one(c, task_id: str, check) -> dict:
    async def found():
        return next((i for i in await interactions(c, task_id) if check(i)), None)
    return await eventually(found, timeout=30, every=0.2)


async def test_a_call_its_callbacks_and_its_outcome_are_one_interaction(clinic, outside):
    c, task = clinic["c"], clinic["tasks"][0]
    r = await c.post(f"/api/v1/tasks/{task}/calls", json={})
    assert r.status_code == 202, r.text
    iid = r.json()["id"]

    async def placed():
        return next((x for x in outside.twilio.calls if x.to == BILLER_PHONE and PAYER_LINE in x.twiml), None)
    call = await eventually(placed, timeout=30)
    for status, extra in (("initiated", {}), ("ringing", {}), ("in-progress", {}),
                          ("completed", {"CallDuration": "95"})):
        assert await asyncio.to_thread(outside.twilio.send_status, call.sid, status, **extra) == 204
    it = await one(c, task, lambda i: i["id"] == iid and i["status"] == "completed")
    assert it["duration_s"] == 95 and it["channel"] == "voice" and it["direction"] == "outbound"

    follow = utc_today() + timedelta(days=30)
    r = await c.post(f"/api/v1/interactions/{iid}/outcome", json={
        "reference_number": "TRI-5521", "claim_status": "reprocessing",
        "next_step": "resubmit with modifier 25", "follow_up_date": follow.isoformat()})
    assert r.status_code == 200, r.text
    # payer_comms keeps the outcome and announces it again: the revision grows
    after = await one(c, task, lambda i: i["id"] == iid and i["revision"] > it["revision"])
    assert after["reference_number"] == "TRI-5521" and after["follow_up_task_id"]
    assert [i["id"] for i in await interactions(c, task)] == [iid]  # one interaction

    detail = (await c.get(f"/api/v1/tasks/{task}")).json()
    assert any("reference TRI-5521" in n["text"] for n in detail["notes"])
    [sub] = detail["subtasks"]
    assert sub["due_at"].startswith(follow.isoformat()) and "modifier 25" in sub["title"]
    seen = [h["detail"]["status"] for h in detail["history"] if h["action"] == "payer_interaction"]
    assert seen[-1] == "completed" and len(seen) == len(set(seen))
    audit = (await c.get("/api/v1/audit", params={"task_id": task}, headers=clinic["manager"])).json()
    assert {"voice_requested", "payer_interaction", "interaction_outcome"} <= {a["action"] for a in audit}
    bundle = (await c.get("/fhir/Communication", params={"part-of": f"Task/{task}"})).json()
    [comm] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Communication"]
    assert comm["id"] == iid and comm["status"] == "completed"
    assert comm["partOf"][0]["reference"] == f"Task/{task}"


async def test_an_sms_and_an_email_out_and_their_replies_in(clinic, outside):
    c, (_, sms_task, mail_task) = clinic["c"], clinic["tasks"][:3]
    r = await c.post(f"/api/v1/tasks/{sms_task}/messages", json={"channel": "sms", "body": "Status of the claim?"})
    sms_id = r.json()["id"]
    r = await c.post(f"/api/v1/tasks/{mail_task}/messages", json={
        "channel": "email", "subject": "Claim status", "body": "Please tell us the status."})
    mail_id = r.json()["id"]

    async def texted():
        return next((m for m in outside.twilio.messages if ref(sms_task) in m.body), None)
    sent = await eventually(texted, timeout=30)
    assert sent.to == PAYER_LINE
    assert await asyncio.to_thread(outside.twilio.send_status, sent.sid, "delivered") == 204
    await one(c, sms_task, lambda i: i["id"] == sms_id and i["status"] == "delivered")

    async def mailed():
        return next((m for m in outside.smtp.mails if ref(mail_task) in m.subject), None)
    mail = await eventually(mailed, timeout=30)
    assert mail.to == [PAYER_EMAIL]
    await one(c, mail_task, lambda i: i["id"] == mail_id and i["status"] == "sent")

    # the payer answers: a text naming the task, an e-mail replying to ours
    url, form, headers = outside.twilio.inbound_sms(
        f"{clinic['api']}/twilio/sms/inbound", sender=PAYER_LINE,
        body=f"Re {ref(sms_task)}: in process, reference R-1")
    assert (await asyncio.to_thread(httpx.post, url, data=form, headers=headers)).status_code == 200
    await one(c, sms_task, lambda i: i["direction"] == "inbound" and i["status"] == "received")
    reply = EmailMessage()
    reply["From"], reply["To"] = PAYER_EMAIL, "billing@workqueue.local"
    reply["Subject"] = f"Re: {mail.subject}"
    reply["Message-ID"] = f"<{uuid.uuid4().hex}@tricare-east.payer.test>"
    reply.set_content("The claim was paid on the 3rd.")
    await asyncio.to_thread(_send_mail, clinic["smtp_port"], reply)
    await one(c, mail_task, lambda i: i["direction"] == "inbound" and i["channel"] == "email")
    for t in (sms_task, mail_task):  # nothing doubled
        assert len(await interactions(c, t)) == 2


def _send_mail(port: int, msg: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.send_message(msg)


async def test_an_unmatched_text_waits_in_triage_and_a_forged_one_is_refused(clinic, outside):
    c, task = clinic["c"], clinic["tasks"][3]
    url = f"{clinic['api']}/twilio/sms/inbound"
    before = {i["id"] for i in (await c.get("/api/v1/interactions/triage")).json()}
    # it names a task reference that is none of ours: a person decides
    u, form, headers = outside.twilio.inbound_sms(url, sender=PAYER_LINE, body="About WQ-00000000: call us")
    assert (await asyncio.to_thread(httpx.post, u, data=form, headers=headers)).status_code == 200

    async def in_triage():
        items = (await c.get("/api/v1/interactions/triage")).json()
        return [i for i in items if i["id"] not in before]
    [item] = await eventually(in_triage, timeout=30, every=0.2)
    r = await c.post(f"/api/v1/interactions/{item['id']}/attach", json={"task_id": task})
    assert r.status_code == 200
    await one(c, task, lambda i: i["id"] == item["id"] and i["revision"] > item["revision"])

    # forged: signed with another token, or not at all → 403, nothing stored
    u, form, _ = outside.twilio.inbound_sms(url, sender=PAYER_LINE, body=f"Re {ref(task)}: forged")
    for headers in ({"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}, {}):
        r = await asyncio.to_thread(httpx.post, u, data=form, headers=headers)
        assert r.status_code == 403
    await asyncio.sleep(2)
    assert len(await interactions(c, task)) == 1
    assert await in_triage() == []  # the attached one left triage; the forged one never came


async def test_a_number_without_consent_is_refused_and_the_refusal_shown(clinic, outside):
    c, task = clinic["c"], clinic["tasks"][4]
    calls_before = len(outside.twilio.calls)
    iid = (await c.post(f"/api/v1/tasks/{task}/calls", json={"to_number": "+15125550199"})).json()["id"]
    it = await one(c, task, lambda i: i["id"] == iid and i["status"] == "refused")
    assert "no consent on record" in it["refusal"]
    sms = (await c.post(f"/api/v1/tasks/{task}/messages", json={
        "channel": "sms", "to_address": "+15125550199", "body": "hello"})).json()["id"]
    it = await one(c, task, lambda i: i["id"] == sms and i["status"] == "refused")
    assert "no consent on record to text" in it["refusal"]
    history = (await c.get(f"/api/v1/tasks/{task}")).json()["history"]
    assert sum(1 for h in history if h["action"] == "payer_interaction"
               and h["detail"]["status"] == "refused") == 2
    assert not [x for x in outside.twilio.calls[calls_before:] if "+15125550199" in x.twiml]


async def test_a_sigkilled_worker_mid_stream_loses_and_doubles_no_interaction(clinic, outside, stack):
    c, tasks = clinic["c"], clinic["tasks"][10:40]
    asking = [c.post(f"/api/v1/tasks/{t}/messages", json={"channel": "sms", "body": f"Claim {i}?"})
              for i, t in enumerate(tasks)]
    streaming = asyncio.gather(*asking)
    await asyncio.sleep(0.3)
    worker = stack["payer_comms-worker"]
    worker.kill(signal.SIGKILL)
    await asyncio.sleep(0.5)
    worker.start()
    ids = {t: r.json()["id"] for t, r in zip(tasks, await streaming, strict=True)}
    await asyncio.to_thread(worker.wait_ready, 60)

    async def all_sent():
        done = 0
        for t in tasks:
            got = await interactions(c, t)
            done += len(got) == 1 and got[0]["id"] == ids[t] and got[0]["status"] == "queued"
        return done == len(tasks)
    await eventually(all_sent, timeout=90, every=0.5)
    texts = {t: sum(ref(t) in m.body for m in outside.twilio.messages) for t in tasks}
    assert all(n >= 1 for n in texts.values()), texts  # every text went out (once, or again
    # if the worker died between Twilio's answer and its commit: at least once, by design)
