"""One bad record never stops the bus or leaks data: over the real services.

- a 5 MB field is refused at intake, and the pipeline keeps flowing for other orgs;
- an event too large for the broker, already in an outbox, is set aside and the events
  behind it publish within seconds;
- a known patient name, sent in good, refused and dead-lettered events, shows in no log
  line and in no dead-letter header;
- with the broker stopped, the gateway's and intake's APIs stay ready and serve; after it
  returns, every topic has its declared partitions and nothing posted meanwhile is lost.
"""
from __future__ import annotations

import asyncio
import io
import json
import time
import uuid

import httpx
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from fastavro import schemaless_writer

from common import events, localstack, topics
from common.events import MAGIC
from common.settings import CommonSettings
from services.intake.domain import task_id_for
from tests.integration.conftest import auth, denial, eventually, publish, register

pytestmark = pytest.mark.integration

PATIENT = "QUIXOTE-MARCHETTI, Zebulon"  # a name no fixture or code uses elsewhere


def org() -> str:
    return f"hard-{uuid.uuid4().hex[:8]}"


def body(o: str, source_id: str, **payload) -> dict:
    return {"event_type": "DenialPosted", "org_id": o,
            "payload": {**denial(source_id=source_id).model_dump(mode="json"), **payload}}


async def visible(stack, o: str, task_id: str, timeout: float = 15) -> dict:
    headers = auth(stack, o)
    async with httpx.AsyncClient(base_url=stack["gateway-api"].url, headers=headers,
                                 timeout=5) as c:
        async def shown():
            got = (await c.get("/api/v1/tasks", params={"id": task_id})).json()
            return got[0] if got else None

        return await eventually(shown, timeout=timeout, every=0.1)


def intake_dsn(stack) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{stack.db_prefix}intake"


async def test_a_5mb_field_is_refused_and_the_pipeline_keeps_flowing(stack):
    bad, good = org(), org()
    register(bad)
    register(good)
    async with httpx.AsyncClient(base_url=stack["intake-api"].url, timeout=30,
                                 headers=stack.service_headers()) as c:
        r = await c.post("/api/v1/events", json=body(bad, "D-5mb", claim_id="C" * 5_000_000))
        assert r.status_code == 422 and "payload.claim_id" in r.json()["detail"]
        r = await c.post("/api/v1/events", json=body(good, "D-after-5mb"))
        assert r.status_code == 202
    task = await visible(stack, good, r.json()["task_id"])
    assert task["source_id"] == "D-after-5mb"


async def test_an_event_the_broker_refuses_is_set_aside_and_those_behind_it_publish(stack):
    """A 2 MB event already in intake's outbox (the broker takes 1 MB) used to be retried
    every 5 s forever, holding back every event of every org behind it."""
    o = org()
    register(o)
    poison = events.envelope(denial(source_id="D-poison"), org_id=o, producer="test")
    with psycopg.connect(intake_dsn(stack), autocommit=True) as conn:
        conn.execute("INSERT INTO outbox (topic, key, value, headers) VALUES (%s, %s, %s, %s)",
                     (topics.TASK_EVENTS.name, b"poison", b"\xc3\x01" + b"x" * 2_000_000,
                      json.dumps([["event_type", "TaskCreated"],
                                  ["event_id", str(poison.event_id)]])))
        conn.execute("NOTIFY wq_outbox")
    t0 = time.monotonic()
    async with httpx.AsyncClient(base_url=stack["intake-api"].url, timeout=10,
                                 headers=stack.service_headers()) as c:
        r = await c.post("/api/v1/events", json=body(o, "D-behind-poison"))
        assert r.status_code == 202
    await visible(stack, o, r.json()["task_id"], timeout=10)
    assert time.monotonic() - t0 < 10
    with psycopg.connect(intake_dsn(stack)) as conn:
        size, reason = conn.execute("SELECT size, reason FROM outbox_dead WHERE key = %s",
                                    (b"poison",)).fetchone()
    assert size > 2_000_000 and "MessageSizeTooLarge" in reason
    async with httpx.AsyncClient(timeout=5) as c:
        prom = (await c.get(f"{stack['intake-worker'].url}/metrics")).text
    assert 'wq_outbox_dead_letters_total{service="intake",topic="tasks.events.v1"} 1.0' in prom


def _raw_denial(o: str, **payload) -> tuple[bytes, list]:
    """A DenialPosted as an outside producer could write it: valid Avro whose values our
    models refuse (a NUL byte in the patient's name)."""
    env = events.envelope(denial(source_id="D-raw"), org_id=o, producer="outside")
    record = env.model_dump(mode="python")
    record["payload"].update(payload)
    et = events.REGISTRY.by_name["DenialPosted"]
    buf = io.BytesIO()
    buf.write(MAGIC + et.fingerprint)
    schemaless_writer(buf, et.schema, record)
    return buf.getvalue(), env.headers


async def _dlq_headers(name: str) -> list[bytes]:
    c = AIOKafkaConsumer(name, group_id=None, auto_offset_reset="earliest",
                         **CommonSettings().kafka_common())
    await c.start()
    out: list[bytes] = []
    try:
        for _ in range(6):
            for msgs in (await c.getmany(timeout_ms=500)).values():
                for m in msgs:
                    out += [k.encode() + b"=" + v for k, v in m.headers]
    finally:
        await c.stop()
    return out


async def test_no_patient_name_reaches_a_log_or_a_dead_letter_header(stack, producer):
    o = org()
    register(o)
    # A good denial, one refused at the edge, one the models refuse on the bus, and one for
    # an org nobody onboarded (the handler refuses it): all with the same patient's name.
    [good] = await publish(producer, [denial(source_id="D-pii-ok", patient_name=PATIENT)], o)
    async with httpx.AsyncClient(base_url=stack["intake-api"].url, timeout=10,
                                 headers=stack.service_headers()) as c:
        r = await c.post("/api/v1/events", json=body(o, "D-pii-nul", patient_name=PATIENT + "\x00"))
        assert r.status_code == 422 and PATIENT not in r.text
    raw, headers = _raw_denial(o, patient_name=PATIENT + "\x00", source_id="D-pii-raw")
    await producer.send_and_wait(topics.UPSTREAM_DENIALS.name, raw, key=b"D-pii-raw",
                                 headers=headers)
    stranger = events.envelope(denial(source_id="D-pii-stranger", patient_name=PATIENT),
                               org_id=f"never-onboarded-{uuid.uuid4().hex[:6]}", producer="outside")
    await producer.send_and_wait(topics.UPSTREAM_DENIALS.name, events.encode(stranger),
                                 key=b"D-pii-stranger", headers=stranger.headers)

    task = await visible(stack, o, str(task_id_for(o, "DenialPosted", "D-pii-ok")))
    assert task["patient_name"] == PATIENT and good.org_id == o

    async def both_dead_lettered():
        hs = await _dlq_headers(topics.UPSTREAM_DENIALS.dlq)
        ids = {h.split(b"=", 1)[1] for h in hs if h.startswith(b"event_id=")}
        return hs if {str(stranger.event_id).encode(), headers[1][1]} <= ids else None

    dlq = await eventually(both_dead_lettered, timeout=20, every=0.5)
    reasons = [h for h in dlq if h.startswith(b"dlq.reason=")]
    assert any(b"payload.patient_name" in h for h in reasons)
    assert any(b"unknown org" in h for h in reasons)
    needles = [PATIENT.encode(), b"QUIXOTE", b"Zebulon"]
    assert not [h for h in dlq if any(n in h for n in needles)]
    await asyncio.sleep(1)  # let the services write what they log about it
    leaks = [f"{p.log.name}: {line[:200]}" for p in stack.procs.values()
             for line in p.log.read_text(errors="replace").splitlines()
             if any(n.decode() in line for n in needles)]
    assert not leaks, "\n".join(leaks[:5])


async def _partitions(bootstrap: str) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    await admin.start()
    try:
        names = set(await admin.list_topics())
        described = await admin.describe_topics([n for n, _ in topics.all_topic_names()
                                                 if n in names])
        return {t["topic"]: len(t["partitions"]) for t in described if not t["error_code"]}
    finally:
        await admin.close()


async def test_without_the_broker_the_apis_stay_ready_and_after_it_nothing_is_lost(tmp_path):
    """Its own broker and a small stack (intake and gateway), so that stopping the broker
    disturbs no other test."""
    broker = localstack.Broker(localstack.free_port(), tmp_path / "broker.log").start()
    stack = localstack.Stack(broker.bootstrap, f"wqt_{uuid.uuid4().hex[:6]}_", log_dir=tmp_path,
                             extra_env={"LOG_LEVEL": "INFO"})
    services = ("intake", "gateway")
    try:
        stack.init(services=services)
        stack.up(workers=services, apis=services)
        o = org()
        stack.register_org(o)
        broker.stop()
        await asyncio.sleep(4)  # the workers notice; reconnect attempts begin
        async with httpx.AsyncClient(timeout=10) as c:
            for name in ("intake-api", "gateway-api"):
                r = await c.get(f"{stack[name].url}/readyz")
                assert r.status_code == 200, (name, r.text)
                assert r.json()["checks"]["broker"].startswith("degraded"), r.json()
            r = await c.post(f"{stack['intake-api'].url}/api/v1/events",
                             json=body(o, "D-while-away"), headers=stack.service_headers())
            assert r.status_code == 202, r.text  # kept in intake's outbox
            task_id = r.json()["task_id"]
            r = await c.get(f"{stack['gateway-worker'].url}/readyz")
            assert r.status_code == 503  # a worker's work is the bus
        await asyncio.sleep(10)
        broker.start()  # the same port, nothing kept

        async def declared():
            got = await _partitions(broker.bootstrap)
            want = dict(topics.all_topic_names())
            return got if got == want else None

        await eventually(declared, timeout=60, every=1)
        stack.seed_users({"orgs": [{"id": o, "name": o}],
                          "users": [{"org_id": o, "email": f"pm@{o}.test", "name": "pm",
                                     "password": "hardening-password", "roles": ["practice_manager"]}]})
        async with httpx.AsyncClient(base_url=stack["gateway-api"].url, timeout=10) as c:
            token = (await c.post("/api/v1/auth/token", json={
                "email": f"pm@{o}.test", "password": "hardening-password"})).json()["access_token"]

            async def arrived():
                got = (await c.get("/api/v1/tasks", params={"id": task_id},
                                   headers={"Authorization": f"Bearer {token}"})).json()
                return got or None

            await eventually(arrived, timeout=90, every=0.5)
        for name in ("intake-worker", "gateway-worker"):
            lines = [ln for ln in stack[name].log.read_text(errors="replace").splitlines()
                     if "aiokafka" in ln or "Unable connect" in ln or "broker_unavailable" in ln]
            assert len(lines) < 60, (name, len(lines), lines[:5])  # once per interval, not per try
    finally:
        stack.down()
        stack.drop_databases(services=services)
        broker.stop()
