"""POST /api/v1/events on a real database."""
import uuid

import httpx
import pytest
import sqlalchemy as sa

from common import events
from common.runtime import create_api
from services.intake import store
from services.intake.app import SERVICE

BODY = {"event_type": "DenialPosted", "org_id": "api-test",
        "payload": {"source_id": "D-100", "claim_id": "C-9", "payer_id": "aetna",
                    "payer_name": "Aetna", "payer_class": "commercial", "patient_id": "P-1",
                    "amount": "812.40", "service_date": "2026-09-01", "denied_on": "2026-10-02",
                    "carc_codes": ["CO-16"], "rarc_codes": ["N290"]}}


@pytest.fixture(scope="module")
async def client(migrate):
    app = create_api(SERVICE, migrate(SERVICE))
    async with app.state.ctx.sessions() as s, s.begin():
        await store.register_orgs(s, [{"org_id": "api-test", "name": "API test"}])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://intake") as c:
        yield c, app.state.ctx


async def test_a_posted_denial_opens_one_task_and_queues_task_created(client):
    c, ctx = client
    r = await c.post("/api/v1/events", json=BODY)
    assert r.status_code == 202, r.text
    first = r.json()
    assert first["duplicate"] is False and first["task_id"]
    again = (await c.post("/api/v1/events", json=BODY)).json()  # replay, new event id
    assert again["duplicate"] is True and again["task_id"] is None
    async with ctx.sessions() as s:
        assert await store.count_sources(s, "api-test") == 1
        rows = (await s.execute(sa.select(store.outbox.c.value))).scalars().all()
    created = [events.decode(v) for v in rows]
    created = [e for e in created if e.org_id == "api-test"]
    assert len(created) == 1
    assert str(created[0].payload.task_id) == first["task_id"]
    assert created[0].payload.title == "Denial CO-16 · Aetna · $812.40"


async def test_the_same_event_id_twice_is_a_no_op(client):
    c, _ = client
    body = {**BODY, "event_id": str(uuid.uuid4()),
            "payload": {**BODY["payload"], "source_id": "D-101"}}
    assert (await c.post("/api/v1/events", json=body)).json()["duplicate"] is False
    assert (await c.post("/api/v1/events", json=body)).json()["duplicate"] is True


@pytest.mark.parametrize("change, field", [
    ({"payload": {**BODY["payload"], "amount": "twelve"}}, "payload.amount"),
    ({"payload": {k: v for k, v in BODY["payload"].items() if k != "claim_id"}}, "payload.claim_id"),
    ({"org_id": ""}, "org_id"),
    ({"payload": {**BODY["payload"], "service_date": "2026-13-45"}}, "payload.service_date"),
])
async def test_a_malformed_event_gets_422_naming_the_field(client, change, field):
    c, _ = client
    r = await c.post("/api/v1/events", json={**BODY, **change})
    assert r.status_code == 422
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert field in r.json()["detail"]


async def test_an_unknown_org_is_refused(client):
    c, _ = client
    r = await c.post("/api/v1/events", json={**BODY, "org_id": "nobody-knows"})
    assert r.status_code == 422 and "unknown org 'nobody-knows'" in r.json()["detail"]


async def test_an_org_changes_its_policy_without_a_deploy(client):
    c, _ = client
    r = await c.put("/api/v1/orgs/api-test/policies/Denial",
                    json={"sla_days": 5, "rules": [{"when": {"amount_gt": 800}, "priority": "Urgent"}]})
    assert r.status_code == 200 and r.json()["version"] == 1
    body = {**BODY, "payload": {**BODY["payload"], "source_id": "D-policy"}}
    task_id = (await c.post("/api/v1/events", json=body)).json()["task_id"]
    _, ctx = client
    async with ctx.sessions() as s:
        rows = (await s.execute(sa.select(store.outbox.c.value))).scalars().all()
    [t] = [e.payload for e in map(events.decode, rows) if str(e.payload.task_id) == task_id]
    assert t.priority == "Urgent"  # 812.40 > 800 under the org's own rule
    r = await c.put("/api/v1/orgs/api-test/policies/Denial",
                    json={"sla_days": 5, "rules": [{"when": {"amount_over": 1}, "priority": "High"}]})
    assert r.status_code == 422 and "rule 1" in r.text
    policies = (await c.get("/api/v1/orgs/api-test/policies")).json()
    assert policies["Denial"]["own"] is True and policies["Referral"]["own"] is False


async def test_an_unknown_event_type_is_refused_by_name(client):
    c, _ = client
    r = await c.post("/api/v1/events", json={**BODY, "event_type": "CoffeeOrdered"})
    assert r.status_code == 422
    assert "DenialPosted" in r.text  # tells the caller what it accepts
