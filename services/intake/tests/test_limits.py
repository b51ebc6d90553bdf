"""Hostile input at intake's edge: refused with a 422 naming the field (or 413 for a body
over the limit), before anything is stored or published."""
import json

import pytest
import sqlalchemy as sa

from services.intake import store
from services.intake.tests.test_api import BODY, client  # noqa: F401 (the fixture)


def _with(path: str, value) -> dict:
    body = json.loads(json.dumps(BODY))
    node = body
    *parents, last = path.split(".")
    for p in parents:
        node = node[p]
    node[last] = value
    return body


async def _outbox_rows(ctx) -> int:
    async with ctx.sessions() as s:
        return (await s.execute(sa.select(sa.func.count()).select_from(store.outbox))).scalar()


@pytest.mark.parametrize("path, value", [
    ("payload.claim_id", "C" * 5_000_000),        # a 5 MB field
    ("payload.claim_id", "C-9\x00"),              # NUL: PostgreSQL cannot store it
    ("payload.patient_name", "DOE\x00Jane"),
    ("payload.amount", "12.345"),                 # more decimals than the schema's scale
    ("payload.amount", "12345678901234567890"),   # more digits than its precision
    ("payload.service_date", "0001-01-01"),       # dates outside 1900..2199
    ("payload.denied_on", "9999-12-31"),
    ("occurred_at", "9999-12-31T23:59:59Z"),
    ("payload.carc_codes", ["CO-16"] * 51),       # more codes than a remittance carries
    ("payload.source_id", ""),
])
async def test_hostile_values_are_refused_naming_the_field(client, path, value):  # noqa: F811
    c, ctx = client
    before = await _outbox_rows(ctx)
    body = _with(path, value)
    body["payload"]["source_id"] = body["payload"]["source_id"] or ""
    r = await c.post("/api/v1/events", json=body)
    assert r.status_code == 422, r.text[:300]
    assert path in [e.get("field") for e in r.json().get("errors", [])] \
        or path.rsplit(".", 1)[-1] in r.json()["detail"]
    assert len(r.content) < 2000  # the answer never echoes the value back
    assert await _outbox_rows(ctx) == before


@pytest.mark.parametrize("raw", ["1e400", "NaN", "Infinity", "-1e999"])
async def test_numbers_json_cannot_hold_are_refused(client, raw):  # noqa: F811
    c, ctx = client
    before = await _outbox_rows(ctx)
    text = json.dumps(BODY).replace('"812.40"', raw)
    r = await c.post("/api/v1/events", content=text, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert "payload.amount" in r.json()["detail"]
    assert await _outbox_rows(ctx) == before


async def test_a_nul_is_named_in_words(client):  # noqa: F811
    c, _ = client
    r = await c.post("/api/v1/events", json=_with("payload.patient_name", "A\x00B"))
    [err] = r.json()["errors"]
    assert err == {"field": "payload.patient_name", "message": "must not contain a NUL character",
                   "type": "string_pattern_mismatch"}


async def test_a_body_over_the_limit_is_refused_before_it_is_read(client):  # noqa: F811
    c, ctx = client
    limit = ctx.settings.max_body_bytes
    r = await c.post("/api/v1/events", content=b"{" + b" " * limit + b"}",
                     headers={"content-type": "application/json"})
    assert r.status_code == 413 and str(limit) in r.json()["detail"]

    async def stream():  # no Content-Length: counted as it arrives
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    r = await c.post("/api/v1/events", content=stream(),
                     headers={"content-type": "application/json"})
    assert r.status_code == 413


async def test_a_long_title_is_cut_not_refused(client):  # noqa: F811
    """Fifty long reason codes and a long payer name compose a title longer than a
    TaskCreated carries: the task opens, its title cut with an ellipsis."""
    c, ctx = client
    body = _with("payload.carc_codes", [f"CO-{i:03d}" + "X" * 20 for i in range(50)])
    body["payload"]["payer_name"] = "P" * 200
    body["payload"]["source_id"] = "D-long-title"
    r = await c.post("/api/v1/events", json=body)
    assert r.status_code == 202, r.text
    from common import events

    async with ctx.sessions() as s:
        rows = (await s.execute(sa.select(store.outbox.c.value))).scalars().all()
    [t] = [e.payload for e in map(events.decode, rows)
           if e.payload.source_id == "D-long-title"]
    assert len(t.title) == 500 and t.title.endswith("…")
