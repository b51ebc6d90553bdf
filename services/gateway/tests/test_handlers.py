"""The gateway's task store fed by its handlers, read through its API."""
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from common import events
from common.consumer import handle_now
from common.events.generated import TaskEscalated, TaskRouted
from services.gateway import store
from services.gateway.tests.conftest import created, h


async def test_created_then_routed_shows_in_the_queue_with_history(gw):
    me = await gw.user("org-a", "biller")
    t = created("org-a", 1)
    await gw.deliver(t, "org-a")
    [item] = (await gw.client.get("/api/v1/queue", headers=h(me))).json()["items"]
    assert item["status"] == "requested" and item["queue"] is None
    assert item["column"] == "To Do" and item["sla_status"] == "on-track"
    await gw.deliver(TaskRouted(task_id=t.task_id, queue="default", reason="fallback"), "org-a")
    r = await gw.client.get(f"/api/v1/tasks/{t.task_id}", headers=h(me))
    detail = r.json()
    assert r.headers["ETag"] == 'W/"2"'
    assert detail["queue"] == "default" and detail["routing_reason"] == "fallback"
    assert [x["action"] for x in detail["history"]] == ["created", "routed"]
    assert detail["details"] == {"claim_id": "C-1"}


async def test_a_redelivered_or_replayed_task_changes_nothing(gw):
    me = await gw.user("org-b", "biller")
    t = created("org-b", 1)
    assert (await gw.deliver(t, "org-b"))[0] is True
    await gw.deliver(t, "org-b")  # same task, new event id
    detail = (await gw.client.get(f"/api/v1/tasks/{t.task_id}", headers=h(me))).json()
    assert [x["action"] for x in detail["history"]] == ["created"]


async def test_the_queue_pages_without_gaps_or_repeats_in_every_sort(gw):
    me = await gw.user("org-c", "biller")
    for i in range(25):
        await gw.deliver(created("org-c", i, priority=["Urgent", "High", "Low"][i % 3]), "org-c")
    for sort in ("due", "priority", "newest", "updated"):
        seen, cursor = [], None
        while True:
            params = {"limit": 7, "sort": sort, **({"cursor": cursor} if cursor else {})}
            page = (await gw.client.get("/api/v1/queue", params=params, headers=h(me))).json()
            assert "items" in page, (sort, page)
            seen += [i["title"] for i in page["items"]]
            if not (cursor := page["next_cursor"]):
                break
        assert sorted(seen) == sorted(f"Denial #{i}" for i in range(25)), sort
        assert len(seen) == 25
    first = (await gw.client.get("/api/v1/queue", params={"sort": "priority", "limit": 9},
                                 headers=h(me))).json()["items"]
    assert [x["priority"] for x in first] == ["Urgent"] * 9


async def test_routing_an_unknown_task_is_refused(gw):
    with pytest.raises(LookupError, match="not in the task store"):
        await gw.deliver(TaskRouted(task_id=uuid.uuid4(), queue="default", reason="x"), "org-e")


async def test_a_bad_cursor_and_a_bad_filter_are_422(gw):
    me = await gw.user("org-a", "biller")
    r = await gw.client.get("/api/v1/queue", params={"cursor": "nope"}, headers=h(me))
    assert r.status_code == 422 and "cursor" in r.text
    r = await gw.client.get("/api/v1/queue", params={"priority": "Whenever"}, headers=h(me))
    assert r.status_code == 422 and "priority" in r.text


async def test_without_a_token_nothing_is_served(gw):
    for path in ("/api/v1/queue", "/api/v1/me", "/api/v1/views", "/fhir/Task"):
        r = await gw.client.get(path)
        assert r.status_code == 401, path


# -- a routing decision that arrives after a later owner (escalation, a person) --

async def _deliver(gw, env) -> bool:
    """Handle one envelope exactly as the consumer would; True unless a duplicate."""
    from services.gateway.app import SERVICE

    handler = next(hs[type(env.payload)] for sub in SERVICE.subscriptions
                   for hs in [sub.handlers] if type(env.payload) in hs)
    fresh, _ = await handle_now(service="gateway", sessions=gw.ctx.sessions, outbox=gw.ctx.outbox,
                                processed=gw.ctx.processed, env=env, handler=handler, via="test")
    return fresh


def _escalation(org: str, task_id, to: str):
    now = datetime.now(UTC)
    return events.envelope(TaskEscalated(
        task_id=task_id, escalation_id=uuid.uuid4(), level=1, reason="created past its deadline",
        task_type="Denial", due_at=now - timedelta(days=1), breached_at=now - timedelta(days=1),
        escalated_at=now, escalated_to_role="practice_manager", escalated_to_user_id=to),
        org_id=org, producer="sla_monitor")


async def _detail(gw, me, task_id) -> dict:
    r = await gw.client.get(f"/api/v1/tasks/{task_id}", headers=h(me))
    assert r.status_code == 200, r.text
    return r.json()


async def _announced(gw, event_type: str, task_id) -> list:
    async with gw.ctx.sessions() as s:
        values = (await s.execute(sa.select(store.outbox.c.value).order_by(store.outbox.c.id))).scalars()
        return [e for e in map(events.decode, values)
                if e.event_type == event_type and e.payload.task_id == task_id]


@pytest.mark.parametrize("order", ["escalated first", "routed first"])
async def test_an_escalation_and_routing_end_the_same_in_either_order(gw, order):
    """A denial created past its deadline: sla_monitor escalates it (sla.escalations.v1)
    while routing decides (tasks.events.v1). Whichever the gateway reads first, the task
    ends with the practice manager, escalated, in routing's queue."""
    org = f"order-{order.split()[0]}"
    pm, biller = await gw.user(org, "practice_manager"), await gw.user(org, "biller")
    created_env = events.envelope(created(org, 1), org_id=org, producer="intake")
    await _deliver(gw, created_env)
    task_id = created_env.payload.task_id
    routed = events.envelope(TaskRouted(task_id=task_id, queue="billing", owner_id=biller["_id"],
                                        rule_id="general-pool", reason="general pool"),
                             org_id=org, producer="routing", cause=created_env)
    escalated = _escalation(org, task_id, pm["_id"])
    for env in ([escalated, routed] if order == "escalated first" else [routed, escalated]):
        assert await _deliver(gw, env)
    t = await _detail(gw, pm, task_id)
    assert (t["owner_id"], t["business_status"], t["escalation_level"], t["queue"]) == (
        pm["_id"], "Escalated", 1, "billing")
    actions = [x["action"] for x in t["history"]]
    if order == "escalated first":
        assert actions == ["created", "escalated", "routing_superseded"]
        late = t["history"][-1]["detail"]
        assert (late["owner_id"], late["kept_owner_id"], late["decided_on"]) == (
            biller["_id"], pm["_id"], str(created_env.event_id))
        assert late["rule_id"] == "general-pool"  # the decision itself is kept for the audit
        assert t["routing_reason"] is None  # the reason explains an owner it did not set
    else:
        assert actions == ["created", "routed", "escalated"]
        assert t["routing_reason"] == "general pool"
    # at-least-once: the same events again change nothing
    version = t["version"]
    for env in (routed, escalated):
        assert not await _deliver(gw, env)
    again = await _detail(gw, pm, task_id)
    assert again["version"] == version and again["owner_id"] == pm["_id"]
    assert [x["action"] for x in again["history"]] == actions
    # routing's workload follows the escalation: it was told who has the task now
    [assigned] = await _announced(gw, "TaskAssigned", task_id)
    assert (assigned.payload.owner_id, assigned.payload.actor_id) == (pm["_id"], "sla_monitor")


async def test_a_persons_assignment_outlives_a_late_routing_decision_and_a_reoffer(gw):
    org = "order-manual"
    me, ann = await gw.user(org, "practice_manager"), await gw.user(org, "biller")
    bob = await gw.user(org, "senior_biller")
    created_env = events.envelope(created(org, 1), org_id=org, producer="intake")
    await _deliver(gw, created_env)
    task_id = created_env.payload.task_id
    r = await gw.client.post(f"/api/v1/tasks/{task_id}/assignment", headers={**h(me), "If-Match": 'W/"1"'},
                             json={"owner_id": ann["_id"], "reason": "knows this payer"})
    assert r.status_code == 200, r.text
    await _deliver(gw, events.envelope(
        TaskRouted(task_id=task_id, queue="billing", owner_id=bob["_id"], reason="high value"),
        org_id=org, producer="routing", cause=created_env))
    t = await _detail(gw, me, task_id)
    assert (t["owner_id"], t["queue"], t["version"]) == (ann["_id"], "billing", 3)
    # a re-offer (routing's timer, caused by no event) naming nobody: the same queue, so
    # nothing changes, not even the version staff hold as their ETag
    await _deliver(gw, events.envelope(
        TaskRouted(task_id=task_id, queue="billing", owner_id=None, reason="offer expired", reoffer=True),
        org_id=org, producer="routing"))
    t = await _detail(gw, me, task_id)
    assert (t["owner_id"], t["version"]) == (ann["_id"], 3)
    assert [x["action"] for x in t["history"]] == ["created", "assigned", "routing_superseded",
                                                   "routing_superseded"]
    assert t["history"][-1]["detail"]["decided_on"] is None and t["history"][-1]["detail"]["reoffer"]


async def test_a_decision_routing_made_after_reading_the_assignment_applies(gw):
    """The rule is causal, not "never after an assignment": routing deciding on the
    gateway's latest TaskAssigned (its cause) knew of it, so its owner is set."""
    org = "order-causal"
    me, ann = await gw.user(org, "practice_manager"), await gw.user(org, "biller")
    bob = await gw.user(org, "senior_biller")
    created_env = events.envelope(created(org, 1), org_id=org, producer="intake")
    await _deliver(gw, created_env)
    task_id = created_env.payload.task_id
    r = await gw.client.post(f"/api/v1/tasks/{task_id}/assignment", headers={**h(me), "If-Match": 'W/"1"'},
                             json={"owner_id": ann["_id"]})
    assert r.status_code == 200
    [assigned] = await _announced(gw, "TaskAssigned", task_id)
    await _deliver(gw, events.envelope(
        TaskRouted(task_id=task_id, queue="billing", owner_id=bob["_id"], reason="rebalanced"),
        org_id=org, producer="routing", cause=assigned))
    t = await _detail(gw, me, task_id)
    assert (t["owner_id"], t["routing_reason"]) == (bob["_id"], "rebalanced")
    assert [x["action"] for x in t["history"]] == ["created", "assigned", "routed"]


async def test_a_subtasks_chosen_owner_is_announced_and_kept_when_routing_decides(gw):
    org = "order-subtask"
    me, ann = await gw.user(org, "practice_manager"), await gw.user(org, "biller")
    bob = await gw.user(org, "senior_biller")
    parent = created(org, 1)
    await gw.deliver(parent, org)
    r = await gw.client.post(f"/api/v1/tasks/{parent.task_id}/subtasks", headers=h(me),
                             json={"title": "Call the payer", "owner_id": ann["_id"]})
    assert r.status_code == 201, r.text
    sub_id = uuid.UUID(r.json()["id"])
    [sub_created] = await _announced(gw, "TaskCreated", sub_id)
    [sub_assigned] = await _announced(gw, "TaskAssigned", sub_id)
    assert sub_assigned.payload.owner_id == ann["_id"] and sub_assigned.payload.actor_id == me["_id"]
    async with gw.ctx.sessions() as s:  # announced after the TaskCreated, on the same key
        ids = (await s.execute(sa.select(store.outbox.c.id, store.outbox.c.value)
                               .where(store.outbox.c.key == str(sub_id).encode())
                               .order_by(store.outbox.c.id))).all()
    assert [events.decode(v).event_type for _, v in ids] == ["TaskCreated", "TaskAssigned"]
    await _deliver(gw, events.envelope(
        TaskRouted(task_id=sub_id, queue="billing", owner_id=bob["_id"], reason="general pool"),
        org_id=org, producer="routing", cause=sub_created))
    t = await _detail(gw, me, sub_id)
    assert (t["owner_id"], t["queue"]) == (ann["_id"], "billing")
    assert [x["action"] for x in t["history"]] == ["created", "routing_superseded"]


async def test_a_subtask_without_an_owner_takes_routings(gw):
    org = "order-subtask-free"
    me, bob = await gw.user(org, "practice_manager"), await gw.user(org, "senior_biller")
    parent = created(org, 1)
    await gw.deliver(parent, org)
    r = await gw.client.post(f"/api/v1/tasks/{parent.task_id}/subtasks", headers=h(me),
                             json={"title": "Call the payer"})
    sub_id = uuid.UUID(r.json()["id"])
    assert await _announced(gw, "TaskAssigned", sub_id) == []
    [sub_created] = await _announced(gw, "TaskCreated", sub_id)
    await _deliver(gw, events.envelope(
        TaskRouted(task_id=sub_id, queue="billing", owner_id=bob["_id"], reason="general pool"),
        org_id=org, producer="routing", cause=sub_created))
    assert (await _detail(gw, me, sub_id))["owner_id"] == bob["_id"]
