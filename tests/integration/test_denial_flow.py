"""A denial's way through the real services: intake → routing → gateway, over the bus."""
from __future__ import annotations

import time
import uuid

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from common import events, localstack, topics
from common.settings import CommonSettings
from tests.integration.conftest import all_tasks, auth, denial, eventually, publish, register

pytestmark = pytest.mark.integration


def org() -> str:
    return f"org-{uuid.uuid4().hex[:8]}"


async def test_every_service_starts_and_is_ready_with_metrics(stack):
    assert {p.service for p in stack.procs.values()} == set(localstack.SERVICES)
    async with httpx.AsyncClient(timeout=5) as c:
        for p in stack.procs.values():
            ready = (await c.get(f"{p.url}/readyz")).json()
            assert ready["checks"] == {"database": "ok", "outbox": "ok", "broker": "ok"}, p.name
            assert (await c.get(f"{p.url}/healthz")).status_code == 200
        metrics = (await c.get(f"{stack['gateway-worker'].url}/metrics")).text
        assert "wq_events_consumed_total" in metrics and "wq_dead_letters_total" in metrics


async def test_a_published_denial_becomes_a_routed_task_in_the_queue(stack, producer):
    o = org()
    [env] = await publish(producer, [denial(source_id="D-flow-1")], o)
    gw = stack["gateway-api"].url
    headers = auth(stack, o)

    async def routed():
        tasks = await all_tasks(stack, o)
        return tasks if tasks and tasks[0]["queue"] else None

    [task] = await eventually(routed, timeout=20)
    assert task["task_type"] == "Denial" and task["status"] == "requested"
    assert task["queue"] == "default" and task["owner_id"] is None
    assert task["source_id"] == "D-flow-1" and task["title"].startswith("Denial CO-197")
    async with httpx.AsyncClient(base_url=gw, headers=headers) as c:
        detail = (await c.get(f"/api/v1/tasks/{task['id']}")).json()
    assert [h["action"] for h in detail["history"]] == ["created", "routed"]
    assert detail["history"][1]["actor"] == "routing"


async def test_a_posted_denial_shows_in_the_queue_within_two_seconds(stack):
    o = org()
    body = {"event_type": "DenialPosted", "org_id": o,
            "payload": denial(source_id="D-post-1").model_dump(mode="json")}
    headers = auth(stack, o)
    register(o)
    async with httpx.AsyncClient(timeout=5) as c:
        t0 = time.monotonic()
        r = await c.post(f"{stack['intake-api'].url}/api/v1/events", json=body)
        assert r.status_code == 401  # intake's API is internal: the service credential only
        r = await c.post(f"{stack['intake-api'].url}/api/v1/events", json=body,
                         headers=stack.service_headers())
        assert r.status_code == 202, r.text
        task_id = r.json()["task_id"]

        async def visible():
            got = (await c.get(f"{stack['gateway-api'].url}/api/v1/tasks",
                               params={"id": task_id}, headers=headers)).json()
            return got

        await eventually(visible, timeout=2, every=0.02)
        assert time.monotonic() - t0 < 2


async def test_the_same_denial_delivered_twice_gives_one_task(stack, producer):
    o = org()
    p = denial(source_id="D-dup-1")
    envs = await publish(producer, [p], o)
    # the same event again (a redelivery), and the same source under a new event id (a replay)
    from common import events
    await producer.send_and_wait(topics.UPSTREAM_DENIALS.name, events.encode(envs[0]),
                                 key=b"D-dup-1", headers=envs[0].headers)
    await publish(producer, [p, denial(source_id="D-dup-2")], o)
    tasks = await eventually(lambda: _routed(stack, o, 2), timeout=20)
    assert sorted(t["source_id"] for t in tasks) == ["D-dup-1", "D-dup-2"]


async def _routed(stack, o, n):
    tasks = await all_tasks(stack, o)
    return tasks if len(tasks) == n and all(t["queue"] for t in tasks) else None


async def test_a_malformed_denial_goes_to_the_dead_letter_topic_and_the_flow_goes_on(stack, producer):
    o = org()
    # an org nobody onboarded: its (well-formed) denial is refused with a reason too
    stranger = events.envelope(denial(source_id="D-stranger"), org_id="org-unknown-x",
                               producer="test")
    await producer.send_and_wait(topics.UPSTREAM_DENIALS.name, events.encode(stranger),
                                 key=b"D-stranger", headers=stranger.headers)
    marker = uuid.uuid4().hex.encode()
    await producer.send_and_wait(topics.UPSTREAM_DENIALS.name, b'{"claim": "not avro"} ' + marker,
                                 key=b"bad-1", headers=[("event_type", b"DenialPosted")])
    await publish(producer, [denial(source_id="D-after-bad")], o)
    [task] = await eventually(lambda: _routed(stack, o, 1), timeout=20)
    assert task["source_id"] == "D-after-bad"

    consumer = AIOKafkaConsumer(topics.UPSTREAM_DENIALS.dlq, group_id=None,
                                auto_offset_reset="earliest", **CommonSettings().kafka_common())
    await consumer.start()
    try:
        async def dead_letter():
            for msgs in (await consumer.getmany(timeout_ms=500)).values():
                for m in msgs:
                    if m.value.endswith(marker):
                        return m
        msg = await eventually(dead_letter, timeout=20)
    finally:
        await consumer.stop()
    headers = {k: v.decode() for k, v in msg.headers}
    assert headers["dlq.reason"].startswith("not Avro single-object encoding")
    consumer = AIOKafkaConsumer(topics.UPSTREAM_DENIALS.dlq, group_id=None,
                                auto_offset_reset="earliest", **CommonSettings().kafka_common())
    await consumer.start()
    try:
        async def refused():
            for msgs in (await consumer.getmany(timeout_ms=500)).values():
                for m in msgs:
                    if dict(m.headers).get("event_id") == str(stranger.event_id).encode():
                        return m
        why = dict((await eventually(refused, timeout=20)).headers)["dlq.reason"].decode()
    finally:
        await consumer.stop()
    assert "unknown org 'org-unknown-x'" in why
    assert headers["dlq.consumer"] == "intake" and headers["dlq.stage"] == "decode"
    assert headers["dlq.topic"] == topics.UPSTREAM_DENIALS.name
    assert headers["event_type"] == "DenialPosted"  # original headers kept


async def test_a_managers_task_policy_reaches_intake_and_prices_the_next_denial(stack):
    """Gateway PUT → TaskPolicyChanged on the bus → intake's task_policy → the next posted
    denial's priority; intake's own API reads the applied version with the credential."""
    o = org()
    pm = auth(stack, o)
    register(o)
    intake = stack["intake-api"].url
    async with httpx.AsyncClient(timeout=10) as c:
        r = await c.put(f"{stack['gateway-api'].url}/api/v1/task-policies/Denial", headers=pm,
                        json={"sla_days": 4, "rules": [{"when": {"amount_gt": 1},
                                                        "priority": "Urgent"}]})
        assert r.status_code == 200 and r.json()["version"] == 1, r.text
        assert (await c.get(f"{intake}/api/v1/orgs/{o}/policies")).status_code == 401

        async def applied():
            got = (await c.get(f"{intake}/api/v1/orgs/{o}/policies",
                               headers=stack.service_headers())).json()
            return got if got["Denial"]["version"] == 1 else None

        got = await eventually(applied, timeout=20)
        assert got["Denial"]["sla_days"] == 4 and got["Denial"]["own"] is True
        body = {"event_type": "DenialPosted", "org_id": o,
                "payload": denial(source_id="D-policy-1").model_dump(mode="json")}
        r = await c.post(f"{intake}/api/v1/events", json=body, headers=stack.service_headers())
        assert r.status_code == 202, r.text
        task_id = r.json()["task_id"]

    async def stored():
        return [t for t in await all_tasks(stack, o) if t["id"] == task_id]

    [task] = await eventually(stored, timeout=20)
    assert task["priority"] == "Urgent"  # the org's own rule, not the default matrix
