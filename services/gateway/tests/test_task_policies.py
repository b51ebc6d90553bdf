"""Intake's task policies through the gateway: managers only, the org from the sign-in,
validated by field, versioned per task type, audited and announced as TaskPolicyChanged
(which intake applies); every bad request a clear 4xx."""
import json

import pytest
import sqlalchemy as sa

from common import events
from services.gateway import store
from services.gateway.tests.conftest import h

URGENT = {"sla_days": 5, "rules": [{"when": {"amount_gt": 800}, "priority": "Urgent"}]}


async def announced(gw, org: str) -> list:
    async with gw.ctx.sessions() as s:
        values = (await s.execute(sa.select(store.outbox.c.value)
                                  .order_by(store.outbox.c.id))).scalars()
        return [e for e in map(events.decode, values)
                if e.event_type == "TaskPolicyChanged" and e.org_id == org]


async def test_managers_change_a_policy_validated_versioned_audited_and_announced(gw):
    org = "org-tp1"
    biller, pm = await gw.user(org, "biller"), await gw.user(org, "practice_manager")
    got = (await gw.client.get("/api/v1/task-policies", headers=h(pm))).json()
    assert got["Denial"]["version"] == 0 and got["Denial"]["own"] is False
    assert got["Denial"]["sla_days"] == 30 and len(got) == 8  # the defaults, every type
    for want in (1, 2):
        r = await gw.client.put("/api/v1/task-policies/Denial", headers=h(pm), json=URGENT)
        assert r.status_code == 200, r.text
        assert (r.json()["version"], r.json()["own"], r.json()["sla_days"]) == (want, True, 5)
    r = await gw.client.put("/api/v1/task-policies/Prior Auth", headers=h(pm),
                            json={"sla_days": 2})
    assert r.status_code == 200 and r.json()["version"] == 1  # versions count per type
    got = (await gw.client.get("/api/v1/task-policies", headers=h(pm))).json()
    assert (got["Denial"]["version"], got["Denial"]["rules"]) == (2, URGENT["rules"])
    assert got["Prior Auth"]["sla_days"] == 2 and got["Referral"]["own"] is False
    sent = await announced(gw, org)
    assert [(e.payload.task_type, e.payload.version) for e in sent] == \
        [("Denial", 1), ("Denial", 2), ("Prior Auth", 1)]
    assert json.loads(sent[0].payload.policy_json)["rules"] == URGENT["rules"]
    assert {e.payload.changed_by for e in sent} == {pm["_id"]}
    audit = (await gw.client.get("/api/v1/audit", headers=h(pm),
                                 params={"actor_id": pm["_id"]})).json()
    changes = [a for a in audit if a["action"] == "task_policy_changed"]
    assert sorted((a["detail"]["task_type"], a["detail"]["version"]) for a in changes) == \
        [("Denial", 1), ("Denial", 2), ("Prior Auth", 1)]
    # A biller may neither read nor change them; another org sees only its own.
    assert (await gw.client.get("/api/v1/task-policies", headers=h(biller))).status_code == 403
    r = await gw.client.put("/api/v1/task-policies/Denial", headers=h(biller), json=URGENT)
    assert r.status_code == 403 and len(await announced(gw, org)) == 3
    other = await gw.user("org-tp-other", "practice_manager")
    got = (await gw.client.get("/api/v1/task-policies", headers=h(other))).json()
    assert got["Denial"]["version"] == 0


@pytest.mark.parametrize("path, body, status, problem", [
    ("/Coffee", URGENT, 404, "task type 'Coffee' is not one of Denial"),
    ("/Denial", {"sla_days": "soon"}, 422, "sla_days"),
    ("/Denial", {"sla_days": 5, "rules": [{"when": {"amount_over": 1}, "priority": "High"}]},
     422, "'amount_over' is not <fact>_<op>"),
    ("/Denial", {"sla_days": 5, "rules": [{"when": {"payer_id_eq": "x" * 5_000_000},
                                           "priority": "High"}]},
     422, "at most 4000 characters of conditions"),
    ("/Denial", {"sla_days": 5, "rules": [{"when": {"payer_id_eq": "a\x00b"},
                                           "priority": "High"}]}, 422, "NUL byte"),
    ("/Denial", {"sla_days": 5, "org_id": "someone-else"}, 422, "Extra inputs are not permitted"),
    ("/" + "x" * 5000, URGENT, 422, "at most 40 characters"),
])
async def test_a_bad_policy_request_gets_a_clear_4xx(gw, path, body, status, problem):
    pm = await gw.user("org-tp2", "practice_manager")
    r = await gw.client.put(f"/api/v1/task-policies{path}", headers=h(pm), json=body)
    assert r.status_code == status and problem in r.text, r.text[:300]
    assert len(r.content) < 5000  # the refusal does not echo a huge field back
    assert await announced(gw, "org-tp2") == []


async def test_task_policies_need_a_signed_in_manager(gw):
    for method in ("GET", "PUT"):
        r = await gw.client.request(method, "/api/v1/task-policies" + ("/Denial" if method == "PUT"
                                                                      else ""),
                                    json=URGENT if method == "PUT" else None)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
