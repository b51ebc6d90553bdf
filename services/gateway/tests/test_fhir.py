"""The FHIR R4 Task API: resources validate with fhir.resources; errors are OperationOutcomes."""
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.task import Task

from common.events.generated import TaskRouted
from services.gateway.tests.conftest import created, h

FHIR = "application/fhir+json"


async def test_read_search_update_and_history(gw):
    org = "fhir"
    me = await gw.user(org, "biller")
    for i in range(7):
        await gw.deliver(created(org, i, task_type="Co-sign" if i == 3 else "Denial"), org)
    t = created(org, 0)
    await gw.deliver(TaskRouted(task_id=t.task_id, queue="default", reason="r"), org)
    c = gw.client

    r = await c.get(f"/fhir/Task/{t.task_id}", headers=h(me))
    assert r.status_code == 200 and r.headers["content-type"].startswith(FHIR)
    task = Task.model_validate(r.json())
    assert task.status == "requested" and task.intent == "order"
    assert task.for_fhir.reference == "Patient/PT-0" and task.meta.versionId == "2"
    assert task.code.coding[0].code == "Denial" and task.priority == "asap"

    r = await c.get("/fhir/Task", params={"code": "Co-sign"}, headers=h(me))
    b = Bundle.model_validate(r.json())
    assert b.type == "searchset" and b.total == 1
    r = await c.get("/fhir/Task", params={"patient": "Patient/PT-1", "status": "requested"},
                    headers=h(me))
    assert Bundle.model_validate(r.json()).total == 2  # PT-1: i = 1, 4
    r = await c.get("/fhir/Task", params={"_count": 3, "_sort": "-due"}, headers=h(me))
    page = Bundle.model_validate(r.json())
    assert page.total == 7 and len(page.entry) == 3
    nxt = next(link.url for link in page.link if link.relation == "next")
    page2 = Bundle.model_validate((await c.get(nxt, headers=h(me))).json())
    ids1 = {e.resource.id for e in page.entry}
    ids2 = {e.resource.id for e in page2.entry}
    assert len(page2.entry) == 3 and not ids1 & ids2
    r = await c.get("/fhir/Task", params={"due": f"ge{t.due_at.date().isoformat()}"}, headers=h(me))
    assert Bundle.model_validate(r.json()).total == 7

    body = task.model_dump(mode="json", by_alias=True, exclude_none=True)
    body["status"] = "in-progress"
    body["businessStatus"] = {"text": "appeal filed"}
    r = await c.put(f"/fhir/Task/{t.task_id}", json=body,
                    headers={**h(me), "If-Match": 'W/"1"', "Content-Type": FHIR})
    assert r.status_code == 412
    assert OperationOutcome.model_validate(r.json()).issue[0].code == "conflict"
    r = await c.put(f"/fhir/Task/{t.task_id}", json=body,
                    headers={**h(me), "If-Match": 'W/"2"', "Content-Type": FHIR})
    assert r.status_code == 200, r.text
    assert Task.model_validate(r.json()).businessStatus.text == "appeal filed"
    body["status"] = "draft"
    r = await c.put(f"/fhir/Task/{t.task_id}", json=body, headers=h(me))
    assert r.status_code == 409
    assert "allowed" in OperationOutcome.model_validate(r.json()).issue[0].diagnostics

    r = await c.get(f"/fhir/Task/{t.task_id}/_history", headers=h(me))
    hist = Bundle.model_validate(r.json())
    assert hist.type == "history"
    assert [(e.resource.meta.versionId, e.resource.status) for e in hist.entry] == [
        ("3", "in-progress"), ("2", "requested"), ("1", "requested")]


async def test_errors_are_operation_outcomes(gw):
    me = await gw.user("fhir-err", "biller")
    c = gw.client
    for path, params, status, code in [
        ("/fhir/Task/00000000-0000-0000-0000-000000000000", {}, 404, "not-found"),
        ("/fhir/Task/not-a-uuid", {}, 404, "not-found"),
        ("/fhir/Task", {"colour": "blue"}, 400, "not-supported"),
        ("/fhir/Task", {"status": "sleeping"}, 400, "invalid"),
        ("/fhir/Task", {"due": "tomorrow"}, 400, "invalid"),
        ("/fhir/Task", {"_count": "9999"}, 400, "invalid"),
        ("/fhir/Task", {"_sort": "colour"}, 400, "not-supported"),
    ]:
        r = await c.get(path, params=params, headers=h(me))
        assert r.status_code == status, (path, params, r.text)
        assert OperationOutcome.model_validate(r.json()).issue[0].code == code
    r = await c.get("/fhir/Task")
    assert r.status_code == 401 and r.json()["resourceType"] == "OperationOutcome"
    nobody = "/fhir/Task/00000000-0000-0000-0000-000000000000"
    r = await c.put(nobody, json={"resourceType": "Task", "status": "requested"}, headers=h(me))
    assert r.status_code == 400 and r.json()["issue"][0]["code"] == "structure"  # no intent
    r = await c.put(nobody, json={"resourceType": "Task", "status": "nonsense", "intent": "order"},
                    headers=h(me))
    assert r.status_code == 400 and "not a Task status" in r.json()["issue"][0]["diagnostics"]


async def test_capability_statement(gw):
    r = await gw.client.get("/fhir/metadata")
    cs = CapabilityStatement.model_validate(r.json())
    assert cs.fhirVersion == "4.0.1"
    [res] = cs.rest[0].resource
    assert res.type == "Task" and {p.name for p in res.searchParam} >= {"status", "owner", "patient"}
