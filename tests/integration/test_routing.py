"""Routing over the bus: each default rule, the fallback, workload balance across ten
equally skilled billers, and a rule change made in the gateway applied live."""
import asyncio
import uuid
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from common.events.generated import TaskRequested
from services.gateway.directory.seed import seed_user_id
from tests.integration.conftest import (
    PASSWORD,
    all_tasks,
    auth,
    denial,
    eventually,
    publish,
    source,
    utc_today,
)

pytestmark = pytest.mark.integration


def uid(email: str) -> str:
    """A seeded user's id; every test address is name@<org>.test."""
    return seed_user_id(email.rsplit("@", 1)[1].removesuffix(".test"), email)


def team(org: str, members: list[tuple[str, list[str], list[str]]], capacity=40) -> dict:
    return {"orgs": [{"id": org, "name": org}], "users": [
        {"org_id": org, "email": f"{name}@{org}.test", "name": name, "password": PASSWORD,
         "roles": roles, "skills": skills, "capacity": capacity}
        for name, roles, skills in members]}


async def staffed(stack, producer, org: str, members, capacity=40) -> None:
    """Seed the team, then wait until routing knows them: a probe routed to the last one."""
    last = members[-1][0]
    members = [*members[:-1], (last, ["care_coordinator"], [])]
    await asyncio.to_thread(stack.seed_users, team(org, members, capacity))
    probe = [TaskRequested(source_id=f"probe-{uuid.uuid4().hex[:6]}", task_type="Care Coordination",
                           title="probe")]
    await publish(producer, probe, org)

    async def known():
        tasks = await all_tasks(stack, org)
        return any(t["owner_id"] == uid(f"{last}@{org}.test") for t in tasks)

    await eventually(known, timeout=30)


async def routed(stack, org: str, n: int) -> dict[str, dict]:
    async def check():
        tasks = [t for t in await all_tasks(stack, org) if t["title"] != "probe"]
        return tasks if len(tasks) >= n and all(t["queue"] for t in tasks) else None
    return {t["source_id"]: t for t in await eventually(check, timeout=60, every=0.3)}


async def test_each_default_rule_and_the_fallback(stack, producer):
    org = f"route-{uuid.uuid4().hex[:6]}"
    await staffed(stack, producer, org, [
        ("senior", ["senior_biller"], ["SeniorBiller"]),
        ("gov", ["biller"], ["GovernmentPayers"]),
        ("wc", ["biller"], ["WorkersComp"]),
        ("esc", ["biller"], ["EscalationTeam"]),
        ("coder", ["biller"], ["ComplexCoding"]),
        ("drsmith", ["physician"], []),
        ("pool", ["biller"], []),
        ("ccm", [], []),
    ])
    old = utc_today() - timedelta(days=120)
    cosign = source("CosignRequested").model_copy(update={"supervising_physician_id": "x"})
    payloads = [
        denial(source_id="high", amount=Decimal("7500")),
        denial(source_id="gov", payer_class="medicare"),
        denial(source_id="wc", payer_class="workers_comp", amount=Decimal("9000")),
        denial(source_id="aged", service_date=old, denied_on=old + timedelta(days=20)),
        source("PriorAuthDecided").model_copy(update={"source_id": "complex", "cpt_codes": ["27447"]}),
        cosign.model_copy(update={"source_id": "cosign"}),
        denial(source_id="pool"),
        source("RxRenewalRequested").model_copy(update={"source_id": "no-nurse"}),
    ]
    await publish(producer, payloads, org)
    tasks = await routed(stack, org, len(payloads))
    owner = {sid: t["owner_id"] for sid, t in tasks.items()}
    who = {uid(f"{n}@{org}.test"): n for n in
           ("senior", "gov", "wc", "esc", "coder", "drsmith", "pool", "ccm")}
    assert {sid: who.get(o) for sid, o in owner.items()} == {
        "high": "senior", "gov": "gov", "wc": "wc", "aged": "esc", "complex": "coder",
        "cosign": "drsmith", "pool": who[owner["pool"]], "no-nurse": None}
    assert who[owner["pool"]] in ("gov", "wc", "esc", "coder", "pool")  # a biller
    assert tasks["no-nurse"]["queue"] == "default" and "default queue" in tasks["no-nurse"]["routing_reason"]
    # the explanation is on the task
    async with httpx.AsyncClient(base_url=stack["gateway-api"].url, headers=auth(stack, org)) as c:
        detail = (await c.get(f"/api/v1/tasks/{tasks['high']['id']}")).json()
    routed_row = next(h for h in detail["history"] if h["action"] == "routed")
    assert routed_row["detail"]["rule_id"] == "high-value"
    assert routed_row["detail"]["candidates"][0]["user_id"] == uid(f"senior@{org}.test")


async def test_a_thousand_tasks_over_ten_equal_billers_stay_balanced(stack, producer):
    org = f"balance-{uuid.uuid4().hex[:6]}"
    billers = [(f"b{i}", ["biller"], ["Denial"]) for i in range(10)]
    await staffed(stack, producer, org, [*billers, ("ccm", [], [])], capacity=500)
    await publish(producer, [denial(source_id=f"bal-{i:04d}") for i in range(1000)], org)
    tasks = await routed(stack, org, 1000)
    load = Counter(t["owner_id"] for t in tasks.values())
    assert len(load) == 10 and None not in load
    assert max(load.values()) - min(load.values()) <= 2, load


async def test_a_rule_changed_in_the_gateway_applies_live(stack, producer):
    org = f"live-{uuid.uuid4().hex[:6]}"
    await staffed(stack, producer, org, [("ann", ["biller"], ["appeals"]),
                                         ("bob", ["biller"], []), ("ccm", [], [])])
    pm = auth(stack, org)
    async with httpx.AsyncClient(base_url=stack["gateway-api"].url, headers=pm) as c:
        bad = await c.put("/api/v1/routing/rules", json={"rules": [
            {"id": "to-appeals", "when": {"task_type_eq": "Denial"},
             "targets": [{"skills": ["Klingon"]}]}]})
        assert bad.status_code == 422 and "to-appeals" in bad.json()["detail"]
        r = await c.put("/api/v1/routing/rules", json={"rules": [
            {"id": "denials-to-appeals", "name": "All denials to appeals",
             "when": {"task_type_eq": "Denial"}, "targets": [{"skills": ["appeals"]}]}]})
        assert r.status_code == 200 and r.json()["version"] == 1
        assert (await c.get("/api/v1/routing/rules")).json()["version"] == 1

    n = 0

    async def applied():
        nonlocal n
        n += 1
        await publish(producer, [denial(source_id=f"live-{n}")], org)
        tasks = await routed(stack, org, n)
        t = tasks[f"live-{n}"]
        return t if "denials-to-appeals" in (t["routing_reason"] or "") else None

    t = await eventually(applied, timeout=30, every=0.5)
    assert t["owner_id"] == uid(f"ann@{org}.test")


async def test_an_offer_nobody_accepts_moves_on_and_a_started_one_stays(stack, producer):
    org = f"offer-{uuid.uuid4().hex[:6]}"
    await staffed(stack, producer, org, [("ann", ["biller"], []), ("bob", ["biller"], []),
                                         ("ccm", [], [])])
    ann, bob = uid(f"ann@{org}.test"), uid(f"bob@{org}.test")
    pm = auth(stack, org)
    async with httpx.AsyncClient(base_url=stack["gateway-api"].url, headers=pm) as c:
        r = await c.put("/api/v1/routing/rules", json={"rules": [
            {"id": "ann-first", "when": {"task_type_eq": "Denial"},
             "targets": [{"user": ann, "timeout_s": 2}, {"user": bob}]}]})
        assert r.status_code == 200

        n = 0

        async def offered_to_ann():  # the rule change is live once a new denial goes to ann
            nonlocal n
            n += 1
            await publish(producer, [denial(source_id=f"offer-{n}")], org)
            t = (await routed(stack, org, n))[f"offer-{n}"]
            return t if t["owner_id"] == ann else None

        ignored = await eventually(offered_to_ann, timeout=30, every=0.5)
        await publish(producer, [denial(source_id="started")], org)
        started = (await routed(stack, org, n + 1))["started"]
        assert started["owner_id"] == ann
        tag = (await c.get(f"/api/v1/tasks/{started['id']}")).headers["ETag"]
        r = await c.post(f"/api/v1/tasks/{started['id']}/status", json={"status": "in-progress"},
                         headers={"If-Match": tag})
        assert r.status_code == 200

        async def moved_to_bob():
            t = (await c.get(f"/api/v1/tasks/{ignored['id']}")).json()
            return t if t["owner_id"] == bob else None

        moved = await eventually(moved_to_bob, timeout=20, every=0.5)
        routed_rows = [h for h in moved["history"] if h["action"] == "routed"]
        assert "not accepted in time" in routed_rows[-1]["detail"]["reason"]
        await asyncio.sleep(3)  # well past the 2 s offer: the started one stays with ann
        kept = (await c.get(f"/api/v1/tasks/{started['id']}")).json()
        assert kept["owner_id"] == ann and kept["status"] == "in-progress"
