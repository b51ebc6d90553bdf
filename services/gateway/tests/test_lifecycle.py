"""A task's whole life by API: every step in the history and the audit trail with actor
and time; refused transitions 409 with the allowed next states; stale writes 412."""
import csv
import io

import sqlalchemy as sa

from common import events
from services.gateway import store
from services.gateway.tests.conftest import created, h


async def etag_of(gw, me, task_id) -> str:
    return (await gw.client.get(f"/api/v1/tasks/{task_id}", headers=h(me))).headers["ETag"]


async def test_full_lifecycle_is_audited_and_refusals_are_clear(gw):
    org = "life"
    biller = await gw.user(org, "biller")
    pm = await gw.user(org, "practice_manager")
    t = created(org, 1)
    await gw.deliver(t, org)
    url = f"/api/v1/tasks/{t.task_id}"
    c = gw.client

    r = await c.post(f"{url}/status", json={"status": "in-progress"}, headers=h(biller))
    assert r.status_code == 428 and "If-Match" in r.json()["detail"]

    tag = await etag_of(gw, biller, t.task_id)
    r = await c.post(f"{url}/assignment", json={"owner_id": biller["_id"]},
                     headers={**h(biller), "If-Match": tag})
    assert r.status_code == 200
    r = await c.post(f"{url}/status", json={"status": "in-progress"},
                     headers={**h(biller), "If-Match": tag})  # the ETag before the assignment
    assert r.status_code == 412 and "reload" in r.json()["detail"]
    tag = r.headers["ETag"]
    r = await c.post(f"{url}/status", json={"status": "in-progress", "reason": "calling Aetna"},
                     headers={**h(biller), "If-Match": tag})
    assert r.status_code == 200
    tag = r.headers["ETag"]
    r = await c.post(f"{url}/status", json={"status": "draft"}, headers={**h(biller), "If-Match": tag})
    assert r.status_code == 409
    assert set(r.json()["detail"]["allowed"]) == {"on-hold", "completed", "failed", "cancelled",
                                                  "entered-in-error"}
    r = await c.post(f"{url}/notes", json={"text": "Payer wants records"}, headers=h(biller))
    assert r.status_code == 201
    r = await c.post(f"{url}/time", json={"minutes": 25, "action": "Payer call"}, headers=h(biller))
    assert r.status_code == 201
    r = await c.post(f"{url}/time", json={"minutes": 0, "action": "x"}, headers=h(biller))
    assert r.status_code == 422 and "minutes" in r.text
    r = await c.post(f"{url}/subtasks", json={"title": "Collect medical records"}, headers=h(biller))
    assert r.status_code == 201
    sub_id = r.json()["id"]
    r = await c.post(f"{url}/status", json={"status": "in-progress", "business_status": "in review"},
                     headers={**h(biller), "If-Match": tag})
    assert r.status_code == 200
    tag = r.headers["ETag"]
    r = await c.post(f"{url}/assignment", json={"owner_id": pm["_id"], "reason": "needs sign-off"},
                     headers={**h(pm), "If-Match": tag})
    tag = r.headers["ETag"]
    r = await c.post(f"{url}/status", json={"status": "completed", "business_status": "overturned"},
                     headers={**h(pm), "If-Match": tag})
    assert r.status_code == 200
    r = await c.post(f"{url}/status", json={"status": "in-progress"},
                     headers={**h(pm), "If-Match": r.headers["ETag"]})
    assert r.status_code == 409 and r.json()["detail"]["allowed"] == ["entered-in-error"]

    detail = (await c.get(url, headers=h(pm))).json()
    assert detail["status"] == "completed" and detail["column"] == "Done"
    assert detail["total_minutes"] == 25 and detail["notes"][0]["text"] == "Payer wants records"
    assert [s["id"] for s in detail["subtasks"]] == [sub_id]
    actions = [(x["action"], x["actor"], x.get("to_status")) for x in detail["history"]]
    assert actions == [
        ("created", "intake", "requested"),
        ("assigned", biller["_id"], None),
        ("status", biller["_id"], "in-progress"),
        ("note", biller["_id"], None),
        ("time", biller["_id"], None),
        ("subtask", biller["_id"], None),
        ("status", biller["_id"], "in-progress"),
        ("reassigned", pm["_id"], None),
        ("status", pm["_id"], "completed"),
    ]
    assert all(x["at"] for x in detail["history"])

    # the audit trail has every action (and the reads), searchable and exportable
    audit = (await c.get("/api/v1/audit", params={"task_id": str(t.task_id)}, headers=h(pm))).json()
    did = [a["action"] for a in reversed(audit) if a["action"] != "read"]
    assert did == ["assigned", "status", "note", "time", "subtask", "status", "reassigned", "status"]
    assert any(a["action"] == "read" and a["actor_id"] == biller["_id"] for a in audit)
    by_patient = (await c.get("/api/v1/audit", params={"patient_id": t.patient_id},
                              headers=h(pm))).json()
    assert {a["task_id"] for a in by_patient} >= {str(t.task_id)}
    r = await c.get("/api/v1/audit", params={"task_id": str(t.task_id), "format": "csv"},
                    headers=h(pm))
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == len(audit) and rows[0]["actor_id"]
    assert (await c.get("/api/v1/audit", headers=h(biller))).status_code == 403

    # each action left its event in the outbox for the other services
    async with gw.ctx.sessions() as s:
        values = (await s.execute(sa.select(store.outbox.c.value))).scalars().all()
    mine = [e for e in map(events.decode, values)
            if getattr(e.payload, "task_id", None) in (t.task_id,) or
            getattr(e.payload, "part_of", None) == t.task_id]
    assert sorted(e.event_type for e in mine) == sorted(
        ["TaskAssigned", "TaskStatusChanged", "TaskNoteAdded", "TaskTimeLogged", "TaskCreated",
         "TaskStatusChanged", "TaskAssigned", "TaskStatusChanged"])
    assert all(e.org_id == org for e in mine)


async def test_views_builtin_saved_and_shared(gw):
    org = "views"
    biller = await gw.user(org, "biller", skills=["workers_comp"])
    pm = await gw.user(org, "practice_manager")
    await gw.deliver(created(org, 1, task_type="Co-sign", title="Co-sign note"), org)
    await gw.deliver(created(org, 2, payer_class="workers_comp", title="WC denial"), org)
    names = [v["name"] for v in (await gw.client.get("/api/v1/views", headers=h(biller))).json()]
    assert names[:5] == ["My Tasks", "Denial Queue", "Overdue", "Co-sign Requests", "My Specialties"]
    q = await gw.client.get("/api/v1/queue", params={"view": "Co-sign Requests"}, headers=h(biller))
    assert [i["title"] for i in q.json()["items"]] == ["Co-sign note"]
    q = await gw.client.get("/api/v1/queue", params={"view": "My Specialties"}, headers=h(biller))
    assert [i["title"] for i in q.json()["items"]] == ["WC denial"]
    r = await gw.client.post("/api/v1/views", json={"name": "Mine high", "filters": {
        "priority": ["High"], "owner": "me"}}, headers=h(biller))
    assert r.status_code == 201
    r = await gw.client.post("/api/v1/views", json={"name": "Team", "shared": True, "filters": {}},
                             headers=h(biller))
    assert r.status_code == 403
    r = await gw.client.post("/api/v1/views", json={"name": "Team", "shared": True,
                                                    "filters": {"sla": "overdue"}}, headers=h(pm))
    assert r.status_code == 201
    pm_views = [v["name"] for v in (await gw.client.get("/api/v1/views", headers=h(pm))).json()]
    assert "Team" in pm_views and "Mine high" not in pm_views  # user-scoped stays private
    counts = (await gw.client.get("/api/v1/queue/counts", headers=h(biller))).json()["columns"]
    assert counts == {"To Do": 2, "In Progress": 0, "Review": 0, "Done": 0}
