"""The gateway's task store fed by its handlers, read through its API."""
import uuid

import pytest

from common.events.generated import TaskRouted
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
