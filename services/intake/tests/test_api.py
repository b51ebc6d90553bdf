"""Intake's internal API on a real database: POST /api/v1/events, the org and policy
look-ups, each for a caller with the service credential only; and the task policies that
arrive from the gateway as TaskPolicyChanged."""
import json
import uuid

import httpx
import pytest
import sqlalchemy as sa

from common import events, service_auth
from common.consumer import handle_now
from common.events.generated import TaskPolicyChanged
from common.runtime import create_api
from services.intake import domain, handlers, store
from services.intake.app import SERVICE

BODY = {"event_type": "DenialPosted", "org_id": "api-test",
        "payload": {"source_id": "D-100", "claim_id": "C-9", "payer_id": "aetna",
                    "payer_name": "Aetna", "payer_class": "commercial", "patient_id": "P-1",
                    "amount": "812.40", "service_date": "2026-09-01", "denied_on": "2026-10-02",
                    "carc_codes": ["CO-16"], "rarc_codes": ["N290"]}}


@pytest.fixture(scope="module")
async def client(migrate):
    settings = migrate(SERVICE)
    app = create_api(SERVICE, settings)
    async with app.state.ctx.sessions() as s, s.begin():
        await store.register_orgs(s, [{"org_id": "api-test", "name": "API test"}])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://intake",
                                 headers=service_auth.headers(settings)) as c:
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


async def deliver_policy(ctx, task_type: str, version: int, policy: dict, org="api-test",
                         event_id: uuid.UUID | None = None):
    payload = TaskPolicyChanged(task_type=task_type, version=version,
                                policy_json=json.dumps(policy), changed_by="pm-1")
    env = events.envelope(payload, org_id=org, producer="gateway",
                          **({"event_id": event_id} if event_id else {}))
    return await handle_now(service="intake", sessions=ctx.sessions, outbox=ctx.outbox,
                            processed=ctx.processed, env=env,
                            handler=handlers.DIRECTORY_HANDLERS[TaskPolicyChanged], via="test")


async def opened_priority(client, source_id: str) -> str:
    c, ctx = client
    body = {**BODY, "payload": {**BODY["payload"], "source_id": source_id}}
    task_id = (await c.post("/api/v1/events", json=body)).json()["task_id"]
    async with ctx.sessions() as s:
        rows = (await s.execute(sa.select(store.outbox.c.value))).scalars().all()
    [t] = [e.payload for e in map(events.decode, rows)
           if e.event_type == "TaskCreated" and str(e.payload.task_id) == task_id]
    return t.priority


async def test_a_policy_from_the_gateway_applies_to_the_next_event_once_and_in_order(client):
    c, ctx = client
    urgent = {"sla_days": 5, "rules": [{"when": {"amount_gt": 800}, "priority": "Urgent"}]}
    first = uuid.uuid4()
    assert (await deliver_policy(ctx, "Denial", 1, urgent, event_id=first))[0] is True
    assert await opened_priority(client, "D-policy-1") == "Urgent"  # 812.40 > 800
    # The same event again (at-least-once delivery) is a no-op; an older version is ignored.
    assert (await deliver_policy(ctx, "Denial", 1, urgent, event_id=first))[0] is False
    await deliver_policy(ctx, "Denial", 3, {"sla_days": 5, "default_priority": "High"})
    await deliver_policy(ctx, "Denial", 2, urgent)  # arrives late
    assert await opened_priority(client, "D-policy-2") == "High"
    policies = (await c.get("/api/v1/orgs/api-test/policies")).json()
    assert policies["Denial"]["own"] is True and policies["Denial"]["version"] == 3
    assert policies["Denial"]["default_priority"] == "High"
    assert policies["Referral"]["own"] is False and policies["Referral"]["version"] == 0


async def test_a_policy_that_breaks_the_contract_never_replaces_a_good_one(client):
    c, ctx = client
    await deliver_policy(ctx, "Referral", 1, {"sla_days": 9})
    with pytest.raises(domain.Invalid, match="policy_json: rules.0.when: 'amount_over' is not <fact>_<op>"):
        await deliver_policy(ctx, "Referral", 2, {"sla_days": 5, "rules": [
            {"when": {"amount_over": 1}, "priority": "High"}]})
    with pytest.raises(domain.Invalid, match="policy_json"):
        await deliver_policy(ctx, "Coffee", 2, {"sla_days": 5})
    policies = (await c.get("/api/v1/orgs/api-test/policies")).json()
    assert (policies["Referral"]["sla_days"], policies["Referral"]["version"]) == (9, 1)


async def test_intake_has_no_policy_write_endpoint(client):
    c, _ = client
    r = await c.put("/api/v1/orgs/api-test/policies/Denial", json={"sla_days": 1})
    assert r.status_code in (404, 405)
    paths = (await c.get("/openapi.json")).json()["paths"]
    assert [m for p in paths.values() for m in p if m in ("put", "patch", "delete")] == []


@pytest.mark.parametrize("method, path", [
    ("POST", "/api/v1/events"), ("GET", "/api/v1/orgs/api-test"),
    ("GET", "/api/v1/orgs/api-test/policies")])
@pytest.mark.parametrize("sent, detail", [
    ({}, "an internal API: send the service credential in X-Service-Token"),
    ({"X-Service-Token": "dev-only-service-token-change-mf"}, "invalid service credential"),
    ({"Authorization": "Bearer nope"}, "invalid service credential")])
async def test_every_route_answers_only_the_service_credential(client, method, path, sent,
                                                               detail):
    c, ctx = client
    before = await _sources(ctx)
    async with httpx.AsyncClient(transport=c._transport, base_url="http://intake",
                                 headers=sent) as anon:
        body = {**BODY, "payload": {**BODY["payload"], "source_id": "D-anon"}}
        r = await anon.request(method, path, json=body if method == "POST" else None)
    assert r.status_code == 401 and r.json()["detail"] == detail
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert await _sources(ctx) == before  # nothing was taken in


async def _sources(ctx) -> int:
    async with ctx.sessions() as s:
        return await store.count_sources(s, "api-test")


@pytest.mark.parametrize("org, problem", [("x" * 5_000, "at most 64 characters"),
                                          ("a%00b", "must not contain a NUL character")])  # %00: a NUL
async def test_org_look_ups_refuse_unbounded_ids(client, org, problem):
    c, _ = client
    for path in (f"/api/v1/orgs/{org}", f"/api/v1/orgs/{org}/policies"):
        r = await c.get(path)
        assert r.status_code == 422 and problem in r.text, r.text[:200]


async def test_an_unknown_event_type_is_refused_by_name(client):
    c, _ = client
    r = await c.post("/api/v1/events", json={**BODY, "event_type": "CoffeeOrdered"})
    assert r.status_code == 422
    assert "DenialPosted" in r.text  # tells the caller what it accepts
