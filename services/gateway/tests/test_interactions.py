"""Payer interactions in the gateway: asked for from a task (one event for payer_comms,
shown on the task at once), their states from payer_comms kept at the highest revision
(history and audit), outcomes (a note, a follow-up sub-task, one event), triage and attach,
and no org seeing another's."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from common import events
from common.consumer import handle_now
from common.events.generated import PayerInteractionLogged
from services.gateway import store
from services.gateway.interactions import service
from services.gateway.tests.conftest import created, h

AT = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


async def logged(gw, org: str, **kw):
    base = dict(interaction_id=uuid.uuid4(), revision=1, channel="voice", direction="outbound",
                status="queued", payer_id="aetna", started_at=AT)
    env = events.envelope(PayerInteractionLogged(**{**base, **kw}), org_id=org,
                          producer="payer_comms")
    return await handle_now(service="gateway", sessions=gw.ctx.sessions, outbox=gw.ctx.outbox,
                            processed=gw.ctx.processed, env=env,
                            handler=service.HANDLERS[PayerInteractionLogged], via="test")


async def announced(gw, event_type: str) -> list:
    async with gw.ctx.sessions() as s:
        values = (await s.execute(sa.select(store.outbox.c.value).order_by(store.outbox.c.id))).scalars()
        return [e for e in map(events.decode, values) if e.event_type == event_type]


async def test_a_call_asked_for_is_one_event_and_on_the_task_at_once(gw):
    org = "calls"
    me = await gw.user(org, "biller")
    t = created(org, 1)
    await gw.deliver(t, org)
    r = await gw.client.post(f"/api/v1/tasks/{t.task_id}/calls", json={}, headers=h(me))
    assert r.status_code == 202, r.text
    iid = r.json()["id"]
    [asked] = [e for e in await announced(gw, "CallRequested") if str(e.payload.interaction_id) == iid]
    assert asked.org_id == org and asked.payload.payer_id == "aetna"
    assert asked.payload.claim_number == "C-1" and asked.payload.user_id == me["_id"]
    [shown] = (await gw.client.get(f"/api/v1/tasks/{t.task_id}/interactions", headers=h(me))).json()
    assert shown["id"] == iid and shown["status"] == "requested" and shown["revision"] == 0
    history = (await gw.client.get(f"/api/v1/tasks/{t.task_id}", headers=h(me))).json()["history"]
    assert history[-1]["action"] == "voice_requested"

    # payer_comms's states, out of order and twice: the highest revision is kept
    await logged(gw, org, interaction_id=uuid.UUID(iid), task_id=t.task_id, revision=3,
                 status="completed", duration_s=95, ended_at=AT + timedelta(seconds=100))
    await logged(gw, org, interaction_id=uuid.UUID(iid), task_id=t.task_id, revision=2,
                 status="ringing")
    await logged(gw, org, interaction_id=uuid.UUID(iid), task_id=t.task_id, revision=3,
                 status="completed", duration_s=95)
    [shown] = (await gw.client.get(f"/api/v1/tasks/{t.task_id}/interactions", headers=h(me))).json()
    assert (shown["status"], shown["revision"], shown["duration_s"]) == ("completed", 3, 95)
    history = (await gw.client.get(f"/api/v1/tasks/{t.task_id}", headers=h(me))).json()["history"]
    assert [x["detail"]["status"] for x in history if x["action"] == "payer_interaction"] == ["completed"]
    audit = (await gw.client.get("/api/v1/audit", params={"task_id": str(t.task_id)},
                                 headers=h(await gw.user(org, "practice_manager")))).json()
    assert any(a["action"] == "payer_interaction" for a in audit)


async def test_the_outcome_becomes_a_note_a_follow_up_and_one_event(gw):
    org = "outcome"
    me = await gw.user(org, "biller")
    t = created(org, 1, due_at=AT + timedelta(days=2))
    await gw.deliver(t, org)
    iid = (await gw.client.post(f"/api/v1/tasks/{t.task_id}/calls", json={},
                                headers=h(me))).json()["id"]
    await logged(gw, org, interaction_id=uuid.UUID(iid), task_id=t.task_id, revision=4,
                 status="completed", duration_s=300)
    follow = date(2027, 1, 15)  # after the task's own deadline: the follow-up keeps its day
    r = await gw.client.post(f"/api/v1/interactions/{iid}/outcome", headers=h(me), json={
        "reference_number": "REF-778", "claim_status": "in review", "next_step": "resubmit with modifier 25",
        "follow_up_date": follow.isoformat(), "promised_payment_date": "2027-01-10"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["reference_number"] == "REF-778" and out["note_id"] and out["follow_up_task_id"]
    detail = (await gw.client.get(f"/api/v1/tasks/{t.task_id}", headers=h(me))).json()
    [note] = [n for n in detail["notes"] if n["id"] == out["note_id"]]
    assert "reference REF-778" in note["text"] and "resubmit with modifier 25" in note["text"]
    [sub] = detail["subtasks"]
    assert sub["id"] == out["follow_up_task_id"] and sub["due_at"].startswith("2027-01-15")
    assert sub["owner_id"] == me["_id"] and "resubmit with modifier 25" in sub["title"]
    [told] = [e for e in await announced(gw, "InteractionOutcomeRecorded")
              if str(e.payload.interaction_id) == iid]
    assert told.payload.carc_codes == ["CO-197"] and told.payload.next_step.startswith("resubmit")

    # an older state from payer_comms still on its way keeps the outcome
    await logged(gw, org, interaction_id=uuid.UUID(iid), task_id=t.task_id, revision=5,
                 status="completed", duration_s=300)
    again = (await gw.client.get(f"/api/v1/interactions/{iid}", headers=h(me))).json()
    assert again["reference_number"] == "REF-778" and again["next_step"].startswith("resubmit")

    # nothing to say, or said of another org's interaction
    assert (await gw.client.post(f"/api/v1/interactions/{iid}/outcome", json={},
                                 headers=h(me))).status_code == 422
    other = await gw.user("outcome-other", "biller")
    r = await gw.client.post(f"/api/v1/interactions/{iid}/outcome", headers=h(other),
                             json={"reference_number": "X"})
    assert r.status_code == 404


async def test_a_message_is_checked_before_it_leaves(gw):
    org = "msgs"
    me = await gw.user(org, "biller")
    t = created(org, 1)
    await gw.deliver(t, org)
    tpl = (await gw.client.get(f"/api/v1/tasks/{t.task_id}/message-templates", headers=h(me))).json()
    assert {x["channel"] for x in tpl} == {"sms", "email"} and all("C-1" in x["body"] for x in tpl)
    for bad, why in (({"channel": "sms", "body": "x" * 1601}, "1,600"),
                     ({"channel": "fax", "body": "hi"}, "channel"),
                     ({"channel": "sms", "body": ""}, "body"),
                     ({"channel": "sms", "body": "hi", "subject": "s"}, "subject")):
        r = await gw.client.post(f"/api/v1/tasks/{t.task_id}/messages", json=bad, headers=h(me))
        assert r.status_code == 422 and why in r.text, (bad, r.text)
    r = await gw.client.post(f"/api/v1/tasks/{t.task_id}/messages", headers=h(me),
                             json={"channel": "email", "subject": tpl[1]["subject"], "body": tpl[1]["body"]})
    assert r.status_code == 202
    [asked] = [e for e in await announced(gw, "MessageRequested") if str(e.payload.interaction_id) == r.json()["id"]]
    assert asked.payload.channel == "email" and asked.payload.body == tpl[1]["body"]
    # a task without a payer, and another org's task
    nopayer = created(org, 2, payer_id=None, payer_name=None)
    await gw.deliver(nopayer, org)
    r = await gw.client.post(f"/api/v1/tasks/{nopayer.task_id}/calls", json={}, headers=h(me))
    assert r.status_code == 422 and "no payer" in r.text
    other = await gw.user("msgs-other", "biller")
    assert (await gw.client.post(f"/api/v1/tasks/{t.task_id}/calls", json={},
                                 headers=h(other))).status_code == 404


async def test_an_unmatched_item_waits_in_triage_until_attached(gw):
    org = "triage"
    me = await gw.user(org, "biller")
    t = created(org, 1)
    await gw.deliver(t, org)
    iid = uuid.uuid4()
    await logged(gw, org, interaction_id=iid, channel="sms", direction="inbound",
                 status="received", summary="Inbound SMS (42 characters)")
    [item] = (await gw.client.get("/api/v1/interactions/triage", headers=h(me))).json()
    assert item["id"] == str(iid) and item["task_id"] is None
    other = await gw.user("triage-other", "biller")
    assert (await gw.client.get("/api/v1/interactions/triage", headers=h(other))).json() == []
    r = await gw.client.post(f"/api/v1/interactions/{iid}/attach", json={"task_id": str(t.task_id)},
                             headers=h(other))
    assert r.status_code == 404
    r = await gw.client.post(f"/api/v1/interactions/{iid}/attach", json={"task_id": str(t.task_id)},
                             headers=h(me))
    assert r.status_code == 200 and r.json()["task_id"] == str(t.task_id)
    assert (await gw.client.get("/api/v1/interactions/triage", headers=h(me))).json() == []
    [attached] = [e for e in await announced(gw, "InteractionAttached") if e.payload.interaction_id == iid]
    assert attached.payload.task_id == t.task_id
    # payer_comms's older state (still unmatched) does not detach it
    await logged(gw, org, interaction_id=iid, channel="sms", direction="inbound", revision=2,
                 status="received")
    [shown] = (await gw.client.get(f"/api/v1/tasks/{t.task_id}/interactions", headers=h(me))).json()
    assert shown["id"] == str(iid)
    # an outbound one cannot be attached
    out = (await gw.client.post(f"/api/v1/tasks/{t.task_id}/calls", json={}, headers=h(me))).json()["id"]
    r = await gw.client.post(f"/api/v1/interactions/{out}/attach", json={"task_id": str(t.task_id)},
                             headers=h(me))
    assert r.status_code == 409


async def test_a_state_naming_another_orgs_task_lands_in_its_own_triage(gw):
    victim = "victim"
    await gw.user(victim, "biller")
    t = created(victim, 1)
    await gw.deliver(t, victim)
    attacker = await gw.user("attacker", "biller")
    iid = uuid.uuid4()
    await logged(gw, "attacker", interaction_id=iid, task_id=t.task_id, status="completed")
    assert [i["id"] for i in (await gw.client.get("/api/v1/interactions/triage",
                                                  headers=h(attacker))).json()] == [str(iid)]
    mine = await gw.user(victim, "practice_manager")
    assert (await gw.client.get(f"/api/v1/tasks/{t.task_id}/interactions", headers=h(mine))).json() == []
    # and a later state of it cannot move it into the victim's org either
    await logged(gw, victim, interaction_id=iid, task_id=t.task_id, revision=2, status="completed")
    assert (await gw.client.get(f"/api/v1/tasks/{t.task_id}/interactions", headers=h(mine))).json() == []
