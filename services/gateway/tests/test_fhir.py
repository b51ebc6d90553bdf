"""The FHIR R4 Task API: resources validate with fhir.resources, Bundles keep FHIR's
invariants (bdl-1 … bdl-12, in FHIRPath); errors are OperationOutcomes."""
from urllib.parse import parse_qsl, urlsplit

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.task import Task

from common.events.generated import TaskRouted
from services.gateway import domain
from services.gateway.fhir import resources as fhir
from services.gateway.tests.conftest import created, h
from services.gateway.tests.fhir_invariants import broken_invariants

FHIR = "application/fhir+json"
STRICT = {"Prefer": "handling=strict"}


def bundle_of(r) -> Bundle:
    """A response's Bundle: 200, valid for fhir.resources and FHIR's Bundle invariants."""
    assert r.status_code == 200, r.text
    assert broken_invariants(r.json()) == []
    return Bundle.model_validate(r.json())


def query_of(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query)


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
    assert task.code.coding[0].code == "Denial" and task.priority == "urgent"  # our High
    assert fhir.priority_of(r.json()) == "High"

    b = bundle_of(await c.get("/fhir/Task", params={"code": "Co-sign"}, headers=h(me)))
    assert b.type == "searchset" and b.total == 1
    assert b.entry[0].fullUrl == f"http://gw/fhir/Task/{created(org, 3).task_id}"
    r = await c.get("/fhir/Task", params={"patient": "Patient/PT-1", "status": "requested"},
                    headers=h(me))
    assert bundle_of(r).total == 2  # PT-1: i = 1, 4
    page = bundle_of(await c.get("/fhir/Task", params={"_count": 3, "_sort": "-due"}, headers=h(me)))
    assert page.total == 7 and len(page.entry) == 3
    nxt = next(link.url for link in page.link if link.relation == "next")
    page2 = bundle_of(await c.get(nxt, headers=h(me)))
    ids1 = {e.resource.id for e in page.entry}
    ids2 = {e.resource.id for e in page2.entry}
    assert len(page2.entry) == 3 and not ids1 & ids2
    r = await c.get("/fhir/Task", params={"due": f"ge{t.due_at.date().isoformat()}"}, headers=h(me))
    assert bundle_of(r).total == 7
    # A range is two values of one parameter: both stay in the paging links.
    span = [("due", f"ge{t.due_at.isoformat()}"), ("due", f"lt{created(org, 5).due_at.isoformat()}")]
    r = await c.get("/fhir/Task", params=[*span, ("_count", "2")], headers=h(me))
    ranged = bundle_of(r)
    assert ranged.total == 5  # i = 0 … 4
    nxt = next(link.url for link in ranged.link if link.relation == "next")
    assert [kv for kv in query_of(nxt) if kv[0] == "due"] == span
    assert bundle_of(await c.get(nxt, headers=h(me))).total == 5

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
    r = await c.put(f"/fhir/Task/{t.task_id}", json=body,
                    headers={**h(me), "If-Match": 'W/"3"', "Content-Type": FHIR})
    assert r.status_code == 409
    assert "allowed" in OperationOutcome.model_validate(r.json()).issue[0].diagnostics

    hist = bundle_of(await c.get(f"/fhir/Task/{t.task_id}/_history", headers=h(me)))
    assert hist.type == "history"
    assert [(e.resource.meta.versionId, e.resource.status) for e in hist.entry] == [
        ("3", "in-progress"), ("2", "requested"), ("1", "requested")]


async def test_history_entries_name_the_resource_and_carry_their_version(gw):
    """bdl-8: fullUrl is never version specific; the version is in meta.versionId, the
    entry's ETag and its request, as FHIR's history bundle has it; each version vreads."""
    org = "fhir-hist"
    me = await gw.user(org, "biller")
    t = created(org, 0)
    await gw.deliver(t, org)
    await gw.deliver(TaskRouted(task_id=t.task_id, queue="default", reason="r"), org)
    c = gw.client
    r = await c.get(f"/fhir/Task/{t.task_id}/_history", headers=h(me))
    hist = bundle_of(r)
    assert {e.fullUrl for e in hist.entry} == {f"http://gw/fhir/Task/{t.task_id}"}
    assert [(e.resource.meta.versionId, e.response.etag, e.response.status, e.request.method,
             e.request.url) for e in hist.entry] == [
        ("2", 'W/"2"', "200", "PUT", f"Task/{t.task_id}"),
        ("1", 'W/"1"', "201", "POST", "Task")]
    for e in hist.entry:
        r = await c.get(f"/fhir/Task/{t.task_id}/_history/{e.resource.meta.versionId}", headers=h(me))
        assert r.status_code == 200 and r.headers["ETag"] == e.response.etag
        assert Task.model_validate(r.json()) == e.resource
    for version in ("3", "0", "x", "99999999999"):
        r = await c.get(f"/fhir/Task/{t.task_id}/_history/{version}", headers=h(me))
        assert r.status_code == 404 and r.json()["issue"][0]["code"] == "not-found"
    other = await gw.user("fhir-hist-other", "biller")
    r = await c.get(f"/fhir/Task/{t.task_id}/_history/1", headers=h(other))
    assert r.status_code == 404
    r = await c.get(f"/fhir/Task/{t.task_id}/_history", headers=h(other))
    assert r.status_code == 404
    manager = await gw.user(org, "practice_manager")
    reads = (await c.get("/api/v1/audit", params={"task_id": str(t.task_id), "actor_id": me["_id"]},
                         headers=h(manager))).json()
    assert sorted((a["action"], a["detail"].get("version", 0), a["detail"].get("history", False))
                  for a in reads) == [("read", 0, True), ("read", 1, False), ("read", 2, False)]


def test_the_invariant_check_finds_the_old_version_specific_full_url():
    old = {"resourceType": "Bundle", "type": "history", "total": 1, "entry": [{
        "fullUrl": "Task/1/_history/1", "resource": {"resourceType": "Task", "id": "1",
                                                      "status": "requested", "intent": "order"},
        "request": {"method": "POST", "url": "Task"}, "response": {"status": "201"}}]}
    assert broken_invariants(old) == ["bdl-8"]
    no_response = {**old, "entry": [{**old["entry"][0], "fullUrl": "http://gw/fhir/Task/1",
                                     "response": None}]}
    no_response["entry"][0].pop("response")
    assert broken_invariants(no_response) == ["bdl-4"]
    doc = {"resourceType": "Bundle", "type": "document", "entry": [{"resource": old["entry"][0]["resource"]}]}
    assert broken_invariants(doc) == ["bdl-9", "bdl-10", "bdl-11"]


@pytest.mark.parametrize("ours, code", [
    ("Urgent", "asap"), ("High", "urgent"), ("Routine", "routine"), ("Low", "routine")])
def test_each_priority_is_published_faithfully_and_read_back_exactly(ours, code):
    row = {"id": "6f1c2d4e-8a57-4c1b-9b4e-2f0d7f3e5a11", "version": 1, "updated_at": "2026-11-23T10:00:00+00:00",
           "source_kind": "DenialPosted", "source_id": "D-1", "status": "requested", "priority": ours,
           "task_type": "Denial", "title": "t", "created_at": "2026-11-23T10:00:00+00:00",
           "due_at": "2026-12-23T10:00:00+00:00"}
    res = fhir.to_fhir(row)
    assert res["priority"] == code
    assert res["extension"] == [{"url": fhir.PRIORITY_EXTENSION, "valueCoding": {
        "system": fhir.PRIORITY_SYSTEM, "code": ours, "display": ours}}]
    assert fhir.priority_of(res) == ours  # nothing lost
    res.pop("extension")
    assert fhir.priority_of(res) == ("Routine" if ours == "Low" else ours)  # FHIR alone


def test_the_priority_map_keeps_the_order_and_reads_every_fhir_code():
    fhir_order = ("routine", "urgent", "asap", "stat")  # request-priority, lowest first
    ranks = [fhir_order.index(fhir.PRIORITY[p]) for p in domain.PRIORITIES]  # ours, highest first
    assert ranks == sorted(ranks, reverse=True)
    assert set(fhir.PRIORITY_FROM_FHIR) == set(fhir_order)
    for code in fhir_order:  # a code read back publishes as itself, or the nearest above
        back = fhir.PRIORITY[fhir.PRIORITY_FROM_FHIR[code]]
        assert fhir_order.index(back) >= fhir_order.index(code) - 1 and back != "stat"
    assert {code: fhir.PRIORITY_FROM_FHIR[code] for code in fhir_order} == {
        "routine": "Routine", "urgent": "High", "asap": "Urgent", "stat": "Urgent"}


async def test_search_by_priority_as_published_or_exactly(gw):
    org = "fhir-prio"
    me = await gw.user(org, "biller")
    for i, p in enumerate(domain.PRIORITIES):
        await gw.deliver(created(org, i, priority=p), org)
    c = gw.client

    async def found(value: str) -> list[str]:
        b = bundle_of(await c.get("/fhir/Task", params={"priority": value, "_sort": "priority"},
                                  headers=h(me)))
        return [fhir.priority_of(e.resource.model_dump(mode="json", by_alias=True))
                for e in b.entry or []]
    assert await found("routine") == ["Routine", "Low"]
    assert await found("http://hl7.org/fhir/request-priority|asap") == ["Urgent"]
    assert await found("urgent,asap") == ["Urgent", "High"]
    assert await found("stat") == []  # nothing is published as stat
    assert await found("urn:workqueue:priority|Low") == ["Low"]
    for bad in ("Low", "urn:workqueue:priority|low", "http://other|routine"):
        r = await c.get("/fhir/Task", params={"priority": bad}, headers=h(me))
        assert r.status_code == 400 and r.json()["issue"][0]["code"] == "invalid", bad


async def test_unknown_search_parameters_are_ignored_and_reported_unless_strict(gw):
    """fhirpy's count() sends _count=0&_totalMethod=count; FHIR's default is lenient."""
    org = "fhir-lenient"
    me = await gw.user(org, "biller")
    for i in range(3):
        await gw.deliver(created(org, i), org)
    c = gw.client
    params = [("_count", "0"), ("_totalMethod", "count"), ("status", "requested"),
              ("colour", "blue"), ("colour", "red")]
    b = bundle_of(await c.get("/fhir/Task", params=params, headers=h(me)))
    assert b.total == 3
    [warning] = [e for e in b.entry if e.search.mode == "outcome"]
    assert [e for e in b.entry if e.search.mode == "match"] == []
    issue = OperationOutcome.model_validate(warning.resource.model_dump(mode="json", by_alias=True)).issue[0]
    assert (issue.severity, issue.code) == ("warning", "not-supported")
    assert "_totalMethod, colour;" in issue.diagnostics
    [self_link] = [link.url for link in b.link]  # _count=0: no next page, ever
    assert query_of(self_link) == [("status", "requested"), ("_offset", "0"), ("_count", "0")]
    b = bundle_of(await c.get("/fhir/Task", params=[("_count", "2"), ("colour", "blue")], headers=h(me)))
    assert b.total == 3 and len([e for e in b.entry if e.search.mode == "match"]) == 2
    nxt = next(link.url for link in b.link if link.relation == "next")
    assert "colour" not in nxt
    assert all(e.search.mode == "match" for e in bundle_of(await c.get(nxt, headers=h(me))).entry)

    for prefer in ("handling=strict", "return=minimal, handling=strict", "handling = strict; x=1"):
        r = await c.get("/fhir/Task", params=params, headers={**h(me), "Prefer": prefer})
        assert r.status_code == 400, prefer
        oo = OperationOutcome.model_validate(r.json())
        assert oo.issue[0].code == "not-supported" and "'_totalMethod'" in oo.issue[0].diagnostics
    r = await c.get("/fhir/Task", params={"status": "requested"}, headers={**h(me), **STRICT})
    assert bundle_of(r).total == 3
    r = await c.get("/fhir/Task", params=params, headers={**h(me), "Prefer": "handling=lenient"})
    assert bundle_of(r).total == 3
    # A modifier this server does not support would change the answer: always refused.
    r = await c.get("/fhir/Task", params={"status:not": "completed"}, headers=h(me))
    assert r.status_code == 400 and "modifier ':not'" in r.json()["issue"][0]["diagnostics"]


async def test_an_update_without_if_match_is_428_and_changes_nothing(gw):
    org = "fhir-428"
    me = await gw.user(org, "biller")
    t = created(org, 0)
    await gw.deliver(t, org)
    c = gw.client
    body = (await c.get(f"/fhir/Task/{t.task_id}", headers=h(me))).json()
    body["status"] = "in-progress"
    r = await c.put(f"/fhir/Task/{t.task_id}", json=body, headers={**h(me), "Content-Type": FHIR})
    assert r.status_code == 428 and r.headers["content-type"].startswith(FHIR)
    issue = OperationOutcome.model_validate(r.json()).issue[0]
    assert issue.code == "required" and "If-Match" in issue.diagnostics
    after = await c.get(f"/fhir/Task/{t.task_id}", headers=h(me))
    assert after.headers["ETag"] == 'W/"1"' and after.json()["status"] == "requested"
    r = await c.put(f"/fhir/Task/{t.task_id}", json=body,
                    headers={**h(me), "If-Match": "3", "Content-Type": FHIR})
    assert r.status_code == 412  # an ETag without W/ still names a version
    r = await c.put(f"/fhir/Task/{t.task_id}", json=body,
                    headers={**h(me), "If-Match": "*", "Content-Type": FHIR})
    assert r.status_code == 400 and "If-Match" in r.json()["issue"][0]["diagnostics"]


async def test_errors_are_operation_outcomes(gw):
    me = await gw.user("fhir-err", "biller")
    c = gw.client
    for path, params, status, code in [
        ("/fhir/Task", {"colour": "blue", **STRICT}, 400, "not-supported"),
        ("/fhir/Task/00000000-0000-0000-0000-000000000000", {}, 404, "not-found"),
        ("/fhir/Task/not-a-uuid", {}, 404, "not-found"),
        ("/fhir/Task", {"status": "sleeping"}, 400, "invalid"),
        ("/fhir/Task", {"due": "tomorrow"}, 400, "invalid"),
        ("/fhir/Task", {"_count": "9999"}, 400, "invalid"),
        ("/fhir/Task", {"_sort": "colour"}, 400, "not-supported"),
    ]:
        prefer = {"Prefer": params.pop("Prefer")} if "Prefer" in params else {}
        r = await c.get(path, params=params, headers={**h(me), **prefer})
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
    assert [x.type for x in cs.rest[0].resource] == ["Task", "Communication"]
    res = cs.rest[0].resource[0]
    assert res.type == "Task" and {p.name for p in res.searchParam} >= {"status", "owner", "patient",
                                                                         "priority"}
    assert res.versioning == "versioned-update"  # updates need If-Match
    assert {i.code for i in res.interaction} == {"read", "vread", "search-type", "update",
                                                 "history-instance"}
