"""nba's suggestions in the gateway: on the task JSON (queue, tasks by id, task page) from
one batched call, null when nba is down (the queue still works); decisions validated (422,
404, 409, 503), audited, and announced as SuggestionDecided through the outbox. nba is a
fake of its internal API (our interface), served in-process."""
import uuid

import httpx
import pytest
import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header, HTTPException, Query

from common import events
from services.gateway import store
from services.gateway.audit import store as audit_store
from services.gateway.tasks import suggestions
from services.gateway.tests.conftest import created, h

ORG = "org-nba"


class FakeNba:
    """nba's internal API as the gateway uses it: a suggestion per known task, for a caller
    with the service credential only (as nba's own API)."""

    def __init__(self, token: str = "fake-nba-service-token") -> None:
        self.logged: dict[str, dict] = {}
        self.calls = 0
        self.token = token
        self.refused = 0

        async def credential(x_service_token: str | None = Header(None)) -> None:
            if x_service_token != self.token:
                self.refused += 1
                raise HTTPException(401, "invalid service credential")

        app = FastAPI(dependencies=[Depends(credential)])

        @app.get("/internal/v1/suggestions")
        async def batch(org_id: str, task_id: list[str] = Query()):
            self.calls += 1
            out = {}
            for t in task_id:
                s = next((v for v in self.logged.values()
                          if v["task_id"] == t and v["org_id"] == org_id), None)
                out[t] = s and {k: s[k] for k in ("suggestion_id", "action", "action_label",
                                                  "reason", "confidence", "exploring",
                                                  "computed_at")}
            return {"suggestions": out}

        @app.get("/internal/v1/suggestions/{sid}")
        async def one(sid: str, org_id: str):
            s = self.logged.get(sid)
            if s is None or s["org_id"] != org_id:
                raise HTTPException(404)
            return s

        self.app = app

    def suggest(self, task_id, action="appeal_with_records", org=ORG) -> str:
        sid = str(uuid.uuid4())
        self.logged[sid] = {"suggestion_id": sid, "task_id": str(task_id), "org_id": org,
                            "action": action, "action_label": "File appeal with medical records",
                            "reason": "CARC 50: not medically necessary; the usual first step.",
                            "confidence": 0.55, "exploring": False, "task_type": "Denial",
                            "computed_at": "2026-11-23T08:00:00+00:00", "decision": None,
                            "decided_action": None}
        return sid


@pytest.fixture
def nba():
    fake = FakeNba()
    suggestions.configure("http://nba", 0.5, token=fake.token,
                          transport=httpx.ASGITransport(app=fake.app))
    yield fake
    suggestions.configure("", 0.5, token="")


async def decision_events(gw, task_id) -> list:
    async with gw.ctx.sessions() as s:
        values = (await s.execute(sa.select(store.outbox.c.value))).scalars()
        return [e for e in map(events.decode, values)
                if e.event_type == "SuggestionDecided" and e.payload.task_id == task_id]


async def test_suggestions_show_on_the_task_json_from_one_batched_call(gw, nba):
    me = await gw.user(ORG, "biller")
    tasks = [created(ORG, i) for i in range(300, 303)]
    for t in tasks:
        await gw.deliver(t, ORG)
    sid = nba.suggest(tasks[0].task_id)
    r = await gw.client.get("/api/v1/queue", params={"q": "Denial #30", "limit": 50}, headers=h(me))
    assert r.status_code == 200, r.text
    items = {i["id"]: i for i in r.json()["items"]}
    assert nba.calls == 1
    s = items[str(tasks[0].task_id)]["suggestion"]
    assert s == {"suggestion_id": sid, "action": "appeal_with_records",
                 "action_label": "File appeal with medical records",
                 "reason": "CARC 50: not medically necessary; the usual first step.",
                 "confidence": 0.55, "exploring": False, "computed_at": "2026-11-23T08:00:00+00:00"}
    assert items[str(tasks[1].task_id)]["suggestion"] is None
    r = await gw.client.get(f"/api/v1/tasks/{tasks[0].task_id}", headers=h(me))
    assert r.json()["suggestion"]["suggestion_id"] == sid
    r = await gw.client.get("/api/v1/tasks", params={"id": [str(t.task_id) for t in tasks]},
                            headers=h(me))
    assert [t["suggestion"] is not None for t in r.json()] == [True, False, False]
    r = await gw.client.get("/api/v1/suggestions/actions", headers=h(me))
    assert {"code": "peer_to_peer", "label": "Request peer-to-peer review"} in r.json()


async def test_the_gateway_asks_nba_with_the_service_credential(gw):
    me = await gw.user(ORG, "biller")
    t = created(ORG, 330)
    await gw.deliver(t, ORG)
    fake = FakeNba()
    fake.suggest(t.task_id)
    transport = httpx.ASGITransport(app=fake.app)
    try:
        suggestions.configure("http://nba", 0.5, token=fake.token, transport=transport)
        r = await gw.client.get(f"/api/v1/tasks/{t.task_id}", headers=h(me))
        assert r.json()["suggestion"]["action"] == "appeal_with_records"
        assert fake.refused == 0
        # A gateway holding another credential gets nothing from nba: no suggestion shown.
        suggestions.configure("http://nba", 0.5, token="not-the-credential", transport=transport)
        r = await gw.client.get(f"/api/v1/tasks/{t.task_id}", headers=h(me))
        assert r.status_code == 200 and r.json()["suggestion"] is None
        assert fake.refused == 1
    finally:
        suggestions.configure("", 0.5, token="")


async def test_the_queue_works_without_nba(gw):
    me = await gw.user(ORG, "biller")
    t = created(ORG, 310)
    await gw.deliver(t, ORG)
    suggestions.configure("http://127.0.0.1:9", 0.2, token="t")  # nothing listens there
    try:
        r = await gw.client.get(f"/api/v1/tasks/{t.task_id}", headers=h(me))
        assert r.status_code == 200 and r.json()["suggestion"] is None
        r = await gw.client.get("/api/v1/queue", headers=h(me))
        assert r.status_code == 200
        r = await gw.client.post(f"/api/v1/tasks/{t.task_id}/suggestion/decision", headers=h(me),
                                 json={"suggestion_id": str(uuid.uuid4()), "decision": "accepted"})
        assert r.status_code == 503 and "did not answer" in r.json()["detail"]
    finally:
        suggestions.configure("", 0.5, token="")


async def test_decisions_are_validated_audited_and_announced(gw, nba):
    me = await gw.user(ORG, "biller")
    t = created(ORG, 320)
    await gw.deliver(t, ORG)
    sid = nba.suggest(t.task_id)
    url = f"/api/v1/tasks/{t.task_id}/suggestion/decision"

    async def post(**body):
        return await gw.client.post(url, json=body, headers=h(me))

    r = await post(suggestion_id=sid, decision="modified")
    assert r.status_code == 422 and "needs the action taken instead" in r.text
    r = await post(suggestion_id=sid, decision="modified", action="pray")
    assert r.status_code == 422 and "not a known action code" in r.text
    r = await post(suggestion_id=sid, decision="maybe")
    assert r.status_code == 422
    r = await post(suggestion_id=sid, decision="accepted", action="peer_to_peer")
    assert r.status_code == 422 and "send decision 'modified'" in r.text
    r = await post(suggestion_id=str(uuid.uuid4()), decision="accepted")
    assert r.status_code == 404
    other = created(ORG, 321)
    await gw.deliver(other, ORG)
    r = await gw.client.post(f"/api/v1/tasks/{other.task_id}/suggestion/decision", headers=h(me),
                             json={"suggestion_id": sid, "decision": "accepted"})
    assert r.status_code == 404 and "is not for task" in r.text
    r = await post(suggestion_id=sid, decision="modified", action="peer_to_peer",
                   note="payer prefers a P2P")
    assert r.status_code == 200, r.text
    assert r.json() == {"task_id": str(t.task_id), "suggestion_id": sid, "decision": "modified",
                        "suggested_action": "appeal_with_records", "action": "peer_to_peer"}
    r = await post(suggestion_id=sid, decision="dismissed")
    assert r.status_code == 409 and "already decided" in r.text
    async with gw.ctx.sessions() as s:
        audit = (await s.execute(sa.select(audit_store.audit_log).where(
            audit_store.audit_log.c.task_id == t.task_id,
            audit_store.audit_log.c.action == "suggestion_decided"))).all()
    assert len(audit) == 1 and audit[0].detail["note"] == "payer prefers a P2P"
    assert audit[0].actor_id == me["_id"]
    [e] = await decision_events(gw, t.task_id)
    assert (e.payload.decision, e.payload.suggested_action, e.payload.action, e.payload.has_note) == (
        "modified", "appeal_with_records", "peer_to_peer", True)
    r = await gw.client.get(f"/api/v1/tasks/{t.task_id}", headers=h(me))
    assert r.json()["history"][-1]["action"] == "suggestion_decided"
