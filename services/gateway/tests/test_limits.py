"""Hostile input at the gateway's edge: a 422 naming the field, nothing stored."""
import json

import pytest
import sqlalchemy as sa

from services.gateway import store
from services.gateway.tests.conftest import created, h


async def _rows(gw, table) -> int:
    async with gw.ctx.sessions() as s:
        return (await s.execute(sa.select(sa.func.count()).select_from(table))).scalar()


@pytest.mark.parametrize("path, body, field", [
    ("notes", {"text": "records\x00please"}, "text"),
    ("notes", {"text": "x" * 5_000_000}, "text"),
    ("time", {"minutes": 10, "action": "Payer call", "performed_on": "9999-12-31"}, "performed_on"),
    ("time", {"minutes": 10, "action": "Payer call", "performed_on": "0001-01-01"}, "performed_on"),
    ("time", {"minutes": 10, "action": "Payer\x00call"}, "action"),
    ("subtasks", {"title": "Call payer", "due_at": "0001-01-01T00:00:00Z"}, "due_at"),
    ("subtasks", {"title": "Call payer", "owner_id": "u" * 300}, "owner_id"),
])
async def test_hostile_task_input_is_refused_naming_the_field(gw, path, body, field):
    org = "limits"
    biller = await gw.user(org, "biller")
    t = created(org, 1)
    await gw.deliver(t, org)
    before = await _rows(gw, store.outbox)
    r = await gw.client.post(f"/api/v1/tasks/{t.task_id}/{path}", json=body, headers=h(biller))
    assert r.status_code == 422, r.text[:300]
    assert field in [e["field"] for e in r.json()["errors"]]
    assert len(r.content) < 2000  # never the value back
    assert await _rows(gw, store.outbox) == before


@pytest.mark.parametrize("raw", ["NaN", "1e400", "Infinity"])
async def test_numbers_json_cannot_hold_are_refused(gw, raw):
    org = "limits"
    biller = await gw.user(org, "biller")
    t = created(org, 2)
    await gw.deliver(t, org)
    r = await gw.client.post(f"/api/v1/tasks/{t.task_id}/time",
                             content=f'{{"minutes": {raw}, "action": "call"}}',
                             headers={**h(biller), "content-type": "application/json"})
    assert r.status_code == 422 and "minutes" in r.text


async def test_a_queue_filter_with_a_nul_or_a_huge_value_is_refused(gw):
    biller = await gw.user("limits", "biller")
    for params in ({"payer_id": "aetna\x00"}, {"patient_id": "p" * 10_000},
                   {"task_type": ["Denial"] * 21}):
        r = await gw.client.get("/api/v1/queue", params=params, headers=h(biller))
        assert r.status_code == 422, (params, r.text[:200])


@pytest.mark.parametrize("rule, words", [
    ({"id": "big", "name": "N" * 5_000_000, "when": {}, "targets": [{"role": "biller"}]},
     "rule 1.name: at most 200 characters"),
    ({"id": "nul", "name": "a\x00b", "when": {}, "targets": [{"role": "biller"}]},
     "rule 1.name: must not contain a NUL character"),
])
async def test_a_routing_rule_too_big_to_publish_is_refused(gw, rule, words):
    """A 5 MB rule name would make a RoutingRulesChanged no broker takes."""
    pm = await gw.user("limits", "practice_manager")
    before = await _rows(gw, store.outbox)
    r = await gw.client.put("/api/v1/routing/rules", content=json.dumps({"rules": [rule]}),
                            headers={**h(pm), "content-type": "application/json"})
    assert r.status_code == 422, r.text[:300]
    assert words in r.text
    assert await _rows(gw, store.outbox) == before
