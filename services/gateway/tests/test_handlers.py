"""The gateway's task store fed by its handlers, on a real database, read through its API."""
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from common import events
from common.consumer import handle_now
from common.events.generated import TaskCreated, TaskRouted
from common.runtime import create_api

from services.gateway import handlers
from services.gateway.app import SERVICE

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def created(org: str, i: int) -> TaskCreated:
    return TaskCreated(task_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{org}/{i}"), task_type="Denial",
                       priority="High", title=f"Denial #{i}", due_at=T0 + timedelta(hours=i),
                       source_kind="DenialPosted", source_id=f"D-{i}", source_module="RCM",
                       reason_codes=["CO-197"], details={"claim_id": f"C-{i}"})


@pytest.fixture(scope="module")
async def gw(migrate):
    app = create_api(SERVICE, migrate(SERVICE))
    ctx = app.state.ctx

    async def deliver(payload, org, env=None):
        env = env or events.envelope(payload, org_id=org, producer="test")
        return await handle_now(service="gateway", sessions=ctx.sessions, outbox=ctx.outbox,
                                processed=ctx.processed, env=env,
                                handler=handlers.HANDLERS[type(payload)], via="test")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://gw") as c:
        yield c, deliver


async def test_created_then_routed_shows_in_the_queue_with_history(gw):
    c, deliver = gw
    t = created("org-a", 1)
    await deliver(t, "org-a")
    r = await c.get("/api/v1/queue", params={"org_id": "org-a"})
    [item] = r.json()["items"]
    assert item["status"] == "requested" and item["queue"] is None
    await deliver(TaskRouted(task_id=t.task_id, queue="default", reason="fallback"), "org-a")
    detail = (await c.get(f"/api/v1/tasks/{t.task_id}", params={"org_id": "org-a"})).json()
    assert detail["queue"] == "default" and detail["routing_reason"] == "fallback"
    assert [h["action"] for h in detail["history"]] == ["created", "routed"]
    assert detail["details"] == {"claim_id": "C-1"}


async def test_a_redelivered_event_changes_nothing(gw):
    c, deliver = gw
    env = events.envelope(created("org-b", 1), org_id="org-b", producer="test")
    assert (await deliver(env.payload, "org-b", env))[0] is True
    assert (await deliver(env.payload, "org-b", env))[0] is False
    other = events.envelope(created("org-b", 1), org_id="org-b", producer="test")
    await deliver(other.payload, "org-b", other)  # same task, new event id
    detail = (await c.get(f"/api/v1/tasks/{env.payload.task_id}", params={"org_id": "org-b"})).json()
    assert [h["action"] for h in detail["history"]] == ["created"]


async def test_the_queue_pages_by_deadline_without_gaps_or_repeats(gw):
    c, deliver = gw
    for i in range(25):
        await deliver(created("org-c", i), "org-c")
    seen, cursor = [], None
    while True:
        params = {"org_id": "org-c", "limit": 7, **({"cursor": cursor} if cursor else {})}
        page = (await c.get("/api/v1/queue", params=params)).json()
        seen += [i["title"] for i in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == [f"Denial #{i}" for i in range(25)]


async def test_another_orgs_task_is_not_found(gw):
    c, deliver = gw
    t = created("org-d", 1)
    await deliver(t, "org-d")
    assert (await c.get(f"/api/v1/tasks/{t.task_id}", params={"org_id": "org-x"})).status_code == 404
    assert (await c.get("/api/v1/tasks", params={"org_id": "org-x", "id": [str(t.task_id)]})).json() == []
    assert (await c.get("/api/v1/queue", params={"org_id": "org-x"})).json()["items"] == []


async def test_routing_an_unknown_task_is_refused(gw):
    _, deliver = gw
    with pytest.raises(LookupError, match="not in the task store"):
        await deliver(TaskRouted(task_id=uuid.uuid4(), queue="default", reason="x"), "org-e")


async def test_a_bad_cursor_is_a_422(gw):
    c, _ = gw
    r = await c.get("/api/v1/queue", params={"org_id": "org-a", "cursor": "nope"})
    assert r.status_code == 422 and "cursor" in r.text
