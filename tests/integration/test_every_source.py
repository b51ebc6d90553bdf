"""One event of every source kind, over the bus, becomes a correctly typed, prioritised
and deadlined task, in the queue and in /fhir/Task."""
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle

from common.tests.test_events import denial
from services.intake.tests.test_domain import source
from tests.integration.conftest import all_tasks, auth, eventually, publish

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
    payloads = [denial(source_id="D-all", amount=denial().amount)] + \
        [source(k) for k in EXPECTED if k != "DenialPosted"]
    sent_at = datetime.now(UTC)
    await publish(producer, payloads, org)

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
        bundle = Bundle.model_validate((await c.get("/fhir/Task", params={"_count": 50})).json())
        assert bundle.total == len(EXPECTED)
        codes = sorted(e.resource.code.coding[0].code for e in bundle.entry)
        assert codes == sorted(t for t, _ in EXPECTED.values())
        rx = (await c.get("/fhir/Task", params={"code": "RxRenewal"})).json()
        assert rx["entry"][0]["resource"]["description"].startswith("Rx renewal · Oxycodone")
