"""One event of every source kind, over the bus, becomes a correctly typed, prioritised
and deadlined task, in the queue and in /fhir/Task. The events' dates are relative to
their occurred_at (when intake receives them), so no day of the calendar changes the
priority or the deadline (services/intake/tests/test_domain.py proves it for many days)."""
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle

from services.gateway.fhir import resources as fhir
from services.gateway.tests.fhir_invariants import broken_invariants
from tests.integration.conftest import all_tasks, auth, denial, eventually, publish, source

pytestmark = pytest.mark.integration

EXPECTED = {  # source kind: (task type, priority)
    "DenialPosted": ("Denial", "Low"),
    "PriorAuthDecided": ("Prior Auth", "High"),
    "RxRenewalRequested": ("RxRenewal", "High"),
    "CosignRequested": ("Co-sign", "High"),
    "ReferralAuthRequested": ("Referral", "Urgent"),
    "PayerFollowUpDue": ("Follow-up", "High"),
    "ClaimStatusChanged": ("Claim Status", "High"),
    "TaskRequested": ("Care Coordination", "High"),
}


async def test_every_source_kind_becomes_its_task(stack, producer):
    org = f"all-{uuid.uuid4().hex[:6]}"
    sent_at = datetime.now(UTC)
    day = sent_at.date()
    payloads = [denial(source_id="D-all", on=day)] + \
        [source(k, on=day) for k in EXPECTED if k != "DenialPosted"]
    await publish(producer, payloads, org, occurred_at=sent_at)

    async def all_routed():
        tasks = await all_tasks(stack, org)
        return tasks if len(tasks) == len(EXPECTED) and all(t["queue"] for t in tasks) else None

    tasks = {t["source_kind"]: t for t in await eventually(all_routed, timeout=30)}
    for kind, (task_type, priority) in EXPECTED.items():
        t = tasks[kind]
        assert (t["task_type"], t["priority"]) == (task_type, priority), kind
        assert datetime.fromisoformat(t["due_at"]) > sent_at, kind
        assert t["status"] == "requested" and t["sla_status"] in ("on-track", "due-soon")

    headers = auth(stack, org)
    async with httpx.AsyncClient(base_url=stack["gateway-api"].url, headers=headers) as c:
        r = await c.get("/fhir/Task", params={"_count": 50})
        assert broken_invariants(r.json()) == []
        bundle = Bundle.model_validate(r.json())
        assert bundle.total == len(EXPECTED)
        codes = sorted(e.resource.code.coding[0].code for e in bundle.entry)
        assert codes == sorted(t for t, _ in EXPECTED.values())
        published = {e["resource"]["code"]["text"]: (e["resource"]["priority"], fhir.priority_of(e["resource"]))
                     for e in r.json()["entry"]}
        assert published == {t: (fhir.PRIORITY[p], p) for t, p in EXPECTED.values()}
        rx = (await c.get("/fhir/Task", params={"code": "RxRenewal"})).json()
        assert rx["entry"][0]["resource"]["description"].startswith("Rx renewal · Oxycodone")
