"""The gateway's side of SLAs: the policy API (managers, validated, versioned, announced)
and what an escalation does to a task (history, owner, level, audit, appeal sub-task)."""
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from common import events
from common.consumer import handle_now
from common.events.generated import TaskEscalated, TaskRouted
from services.gateway import store
from services.gateway.tasks import escalations, handlers
from services.gateway.tasks import store as task_store
from services.gateway.tests.conftest import created, h


async def outbox_events(gw, event_type: str) -> list:
    async with gw.ctx.sessions() as s:
        values = (await s.execute(sa.select(store.outbox.c.value).order_by(store.outbox.c.id))).scalars()
        return [e for e in map(events.decode, values) if e.event_type == event_type]


async def test_policies_are_for_managers_validated_versioned_and_announced(gw):
    org = "org-sla1"
    biller, pm = await gw.user(org, "biller"), await gw.user(org, "practice_manager")
    assert (await gw.client.get("/api/v1/sla/policies", headers=h(biller))).status_code == 403
    got = (await gw.client.get("/api/v1/sla/policies", headers=h(pm))).json()
    assert got == {"version": 0, "policies": [], "maintenance_windows": [], "defaults": True}
    bad = await gw.client.put("/api/v1/sla/policies", headers=h(pm), json={"policies": [
        {"id": "denials", "task_type": "Denial", "deadline_hours": 0}]})
    assert bad.status_code == 422
    assert "policies[0] ('denials').deadline_hours: Input should be greater than 0" in bad.json()["detail"]
    bad = await gw.client.put("/api/v1/sla/policies", headers=h(pm), json={"policies": [
        {"id": "bh", "calendar": {"start": "17:00", "end": "09:00"}}]})
    assert bad.status_code == 422 and "end must be after start" in bad.json()["detail"]
    body = {"policies": [
        {"id": "denials", "task_type": "Denial", "deadline_hours": 16,
         "calendar": {"timezone": "America/New_York", "start": "09:00", "end": "17:00",
                      "exclude_weekends": True, "holidays": ["2026-11-26"]}},
        {"id": "aetna", "task_type": "Claim Status", "payer_id": "aetna", "deadline_hours": 720}],
        "maintenance_windows": [{"id": "upgrade", "starts_at": "2026-12-01T02:00:00Z",
                                 "ends_at": "2026-12-01T04:00:00Z"}]}
    for want in (1, 2):
        r = await gw.client.put("/api/v1/sla/policies", headers=h(pm), json=body)
        assert r.status_code == 200 and r.json()["version"] == want
    got = (await gw.client.get("/api/v1/sla/policies", headers=h(pm))).json()
    assert got["version"] == 2 and [p["id"] for p in got["policies"]] == ["denials", "aetna"]
    assert got["policies"][0]["calendar"]["holidays"] == ["2026-11-26"]
    changed = [e for e in await outbox_events(gw, "SlaPolicyChanged") if e.org_id == org]
    assert [e.payload.version for e in changed] == [1, 2]
    other = await gw.user("org-sla-other", "practice_manager")
    assert (await gw.client.get("/api/v1/sla/policies", headers=h(other))).json()["version"] == 0


async def escalate(gw, org: str, task_id, level: int, to: str | None, appeal=False):
    now = datetime.now(UTC)
    env = events.envelope(TaskEscalated(
        task_id=task_id, escalation_id=uuid.uuid4(), level=level, reason=f"overdue, level {level}",
        task_type="Denial", due_at=now - timedelta(hours=1), breached_at=now - timedelta(hours=1),
        escalated_at=now, escalated_to_role="practice_manager" if level == 1 else "org_admin",
        escalated_to_user_id=to, appeal=appeal), org_id=org, producer="sla_monitor")
    return await handle_now(service="gateway", sessions=gw.ctx.sessions, outbox=gw.ctx.outbox,
                            processed=gw.ctx.processed, env=env,
                            handler=escalations.task_escalated, via="test")


async def test_an_escalation_reassigns_records_and_audits(gw):
    org = "org-sla2"
    pm, admin = await gw.user(org, "practice_manager"), await gw.user(org, "org_admin")
    t = created(org, 1)
    await gw.deliver(t, org)
    await escalate(gw, org, t.task_id, 1, pm["_id"])
    detail = (await gw.client.get(f"/api/v1/tasks/{t.task_id}", headers=h(pm))).json()
    assert detail["business_status"] == "Escalated" and detail["owner_id"] == pm["_id"]
    assert detail["escalation_level"] == 1
    assert isinstance(detail["sla_due_in_s"], int)
    esc = [x for x in detail["history"] if x["action"] == "escalated"]
    assert [(x["to_status"], x["detail"]["level"], x["actor"]) for x in esc] == [("Escalated", 1, "sla_monitor")]
    assigned = [e.payload for e in await outbox_events(gw, "TaskAssigned") if e.payload.task_id == t.task_id]
    assert [(a.owner_id, a.actor_id) for a in assigned] == [(pm["_id"], "sla_monitor")]
    audit = (await gw.client.get("/api/v1/audit", params={"task_id": str(t.task_id)}, headers=h(pm))).json()
    assert "escalated" in [a["action"] for a in audit]
    # the same level again changes nothing; level 2 goes to the org admin
    await escalate(gw, org, t.task_id, 1, pm["_id"])
    await escalate(gw, org, t.task_id, 2, admin["_id"])
    detail = (await gw.client.get(f"/api/v1/tasks/{t.task_id}", headers=h(pm))).json()
    assert detail["owner_id"] == admin["_id"] and detail["escalation_level"] == 2
    assert [x["detail"]["level"] for x in detail["history"] if x["action"] == "escalated"] == [1, 2]
    assert detail["subtasks"] == []  # not an appeal


async def test_an_overdue_appeal_at_level_2_opens_an_escalation_task_and_done_tasks_stay(gw):
    org = "org-sla3"
    pm, admin = await gw.user(org, "practice_manager"), await gw.user(org, "org_admin")
    appeal, done = created(org, 1), created(org, 2)
    for t in (appeal, done):
        await gw.deliver(t, org)
    await escalate(gw, org, appeal.task_id, 2, admin["_id"], appeal=True)
    detail = (await gw.client.get(f"/api/v1/tasks/{appeal.task_id}", headers=h(pm))).json()
    [sub] = detail["subtasks"]
    assert sub["title"] == f"Escalation: {appeal.title}" and sub["owner_id"] == admin["_id"]
    assert sub["priority"] == "Urgent"
    # routing routes the escalation task too: its decision came too late to take it from
    # the org admin (who is announced to routing as its owner)
    sub_id = uuid.UUID(sub["id"])
    [sub_created] = [e for e in await outbox_events(gw, "TaskCreated") if e.payload.task_id == sub_id]
    [sub_assigned] = [e for e in await outbox_events(gw, "TaskAssigned") if e.payload.task_id == sub_id]
    assert (sub_assigned.payload.owner_id, sub_assigned.payload.actor_id) == (admin["_id"], "sla_monitor")
    routed = events.envelope(TaskRouted(task_id=sub_id, queue="billing", owner_id=pm["_id"],
                                        reason="general pool"),
                             org_id=org, producer="routing", cause=sub_created)
    await handle_now(service="gateway", sessions=gw.ctx.sessions, outbox=gw.ctx.outbox,
                     processed=gw.ctx.processed, env=routed, handler=handlers.task_routed, via="test")
    sub_now = (await gw.client.get(f"/api/v1/tasks/{sub_id}", headers=h(pm))).json()
    assert (sub_now["owner_id"], sub_now["queue"]) == (admin["_id"], "billing")
    assert sub_now["history"][-1]["action"] == "routing_superseded"
    async with gw.ctx.sessions() as s, s.begin():
        await task_store.update_task(s, done.task_id, status="completed")
    await escalate(gw, org, done.task_id, 1, pm["_id"])
    detail = (await gw.client.get(f"/api/v1/tasks/{done.task_id}", headers=h(pm))).json()
    assert detail["escalation_level"] == 0 and detail["business_status"] is None


async def test_a_manager_sets_a_phone_and_it_is_announced(gw):
    org = "org-sla4"
    pm, biller = await gw.user(org, "practice_manager"), await gw.user(org, "biller")
    r = await gw.client.patch(f"/api/v1/users/{biller['_id']}", headers=h(pm), json={"phone": "12"})
    assert r.status_code == 422
    r = await gw.client.patch(f"/api/v1/users/{biller['_id']}", headers=h(pm), json={"phone": "+15550123"})
    assert r.status_code == 200 and r.json()["phone"] == "+15550123"
    ups = [e.payload for e in await outbox_events(gw, "UserUpserted") if e.payload.user_id == biller["_id"]]
    assert (ups[-1].phone, ups[-1].email) == ("+15550123", f"biller@{org}.test")


async def test_the_monitor_s_deadline_becomes_the_due_date_and_a_pause_freezes_the_countdown(gw):
    from common.events.generated import SlaDeadlineChanged

    org = "org-sla5"
    pm = await gw.user(org, "practice_manager")
    t = created(org, 1)
    await gw.deliver(t, org)
    before = (await gw.client.get(f"/api/v1/tasks/{t.task_id}", headers=h(pm))).json()
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=5)
    paused = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    env = events.envelope(SlaDeadlineChanged(task_id=t.task_id, due_at=due, paused_at=paused,
                                             reason="paused", policy_id="p", policy_version=1),
                          org_id=org, producer="sla_monitor")
    await handle_now(service="gateway", sessions=gw.ctx.sessions, outbox=gw.ctx.outbox,
                     processed=gw.ctx.processed, env=env, handler=escalations.sla_deadline_changed)
    after = (await gw.client.get(f"/api/v1/tasks/{t.task_id}", headers=h(pm))).json()
    assert datetime.fromisoformat(after["due_at"]) == due and after["version"] == before["version"]
    assert after["sla_due_in_s"] == 6 * 3600  # frozen at due - paused_at
    [row] = [x for x in after["history"] if x["action"] == "sla"]
    assert row["detail"]["reason"] == "paused" and row["detail"]["policy_id"] == "p"
