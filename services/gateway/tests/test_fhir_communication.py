"""FHIR R4 Communication: every payer interaction is one, valid for fhir.resources; search by
task (part-of, based-on) and by when it was sent, paged; of the user's org only; errors are
OperationOutcomes."""
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.operationoutcome import OperationOutcome

from services.gateway.fhir import communications
from services.gateway.fhir.resources import FhirError
from services.gateway.fhir.search import date_period
from services.gateway.tests.conftest import created, h
from services.gateway.tests.fhir_invariants import broken_invariants
from services.gateway.tests.test_interactions import AT, logged

STRICT = {"Prefer": "handling=strict"}
MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"


def bundle_of(r) -> Bundle:
    assert r.status_code == 200, r.text
    assert broken_invariants(r.json()) == []
    return Bundle.model_validate(r.json())


def matches(b: Bundle) -> list[str]:
    return [e.resource.id for e in b.entry or () if e.search.mode == "match"]


async def read(gw, me, iid) -> Communication:
    r = await gw.client.get(f"/fhir/Communication/{iid}", headers=h(me))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    return Communication.model_validate(r.json())


async def test_a_call_with_its_states_and_outcome_reads_back_as_a_communication(gw):
    org = "comm-call"
    me = await gw.user(org, "biller")
    t = created(org, 1)
    await gw.deliver(t, org)
    iid = (await gw.client.post(f"/api/v1/tasks/{t.task_id}/calls", json={},
                                headers=h(me))).json()["id"]
    asked = await read(gw, me, iid)
    assert asked.status == "preparation" and asked.meta.versionId.startswith("0.")
    await logged(gw, org, interaction_id=uuid.UUID(iid), task_id=t.task_id, revision=2,
                 status="ringing", user_id=me["_id"])
    await logged(gw, org, interaction_id=uuid.UUID(iid), task_id=t.task_id, revision=3,
                 status="completed", duration_s=125, user_id=me["_id"],
                 ended_at=AT + timedelta(seconds=130))
    before = await read(gw, me, iid)
    r = await gw.client.post(f"/api/v1/interactions/{iid}/outcome", headers=h(me), json={
        "reference_number": "REF-778", "claim_status": "in review",
        "next_step": "resubmit with modifier 25", "promised_payment_date": "2027-01-10"})
    assert r.status_code == 200, r.text

    r = await gw.client.get(f"/fhir/Communication/{iid}", headers=h(me))
    c = Communication.model_validate(r.json())
    assert c.id == iid and c.status == "completed" and c.statusReason is None
    # the outcome changed the resource but not payer_comms's revision: a new versionId
    assert c.meta.versionId.startswith("3.") and c.meta.versionId != before.meta.versionId
    assert r.headers["ETag"] == f'W/"{c.meta.versionId}"'
    [medium] = c.medium
    assert (medium.coding[0].system, medium.coding[0].code) == (MODE, "PHONE")
    assert c.sent == AT and c.received is None
    assert [x.reference for x in c.partOf] == [x.reference for x in c.basedOn] == [f"Task/{t.task_id}"]
    assert c.sender.reference == f"Practitioner/{me['_id']}"
    [payer] = c.recipient
    assert (payer.reference, payer.display) == ("Organization/aetna", "Aetna")
    [payload] = c.payload
    assert payload.contentString == ("Outbound call, 2 min 5 s, reference REF-778, "
                                     "next step: resubmit with modifier 25")
    assert {n.text for n in c.note} == {"Reference number: REF-778", "Claim status: in review",
                                        "Next step: resubmit with modifier 25",
                                        "Payment promised by: 2027-01-10"}
    assert all(n.authorReference.reference == f"Practitioner/{me['_id']}" for n in c.note)
    assert r.json()["extension"][0]["valueCoding"]["code"] == "completed"
    assert "DOE" not in r.text and "PT-1" not in r.text  # no patient data
    audit = (await gw.client.get("/api/v1/audit", params={"task_id": str(t.task_id)},
                                 headers=h(await gw.user(org, "practice_manager")))).json()
    reads = [a for a in audit if a["action"] == "read" and a["detail"].get("communication_id") == iid]
    assert len(reads) == 3 and all(a["detail"]["via"] == "fhir" for a in reads)


async def test_refused_stopped_inbound_and_triage(gw):
    org = "comm-kinds"
    me = await gw.user(org, "biller")
    t = created(org, 1)
    await gw.deliver(t, org)
    refused, busy, inbound, mail = (uuid.uuid4() for _ in range(4))
    await logged(gw, org, interaction_id=refused, task_id=t.task_id, channel="sms",
                 status="refused", refusal="no SMS consent on file")
    await logged(gw, org, interaction_id=busy, task_id=t.task_id, status="no-answer")
    await logged(gw, org, interaction_id=inbound, channel="sms", direction="inbound",
                 status="received", summary="Inbound SMS (42 characters)")
    await logged(gw, org, interaction_id=mail, task_id=t.task_id, channel="email",
                 status="delivered", user_id=me["_id"])

    c = await read(gw, me, refused)
    assert (c.status, c.statusReason.text) == ("not-done", "no SMS consent on file")
    assert c.medium[0].coding[0].code == "WRITTEN" and c.medium[0].text == "SMS"
    c = await read(gw, me, busy)
    assert (c.status, c.statusReason.text) == ("stopped", "no answer")
    c = await read(gw, me, inbound)
    assert c.status == "completed" and c.partOf is None and c.basedOn is None
    assert c.received == AT and c.sender.reference == "Organization/aetna" and c.recipient is None
    assert c.payload[0].contentString == "Inbound SMS (42 characters)"
    c = await read(gw, me, mail)
    assert c.status == "completed" and c.medium[0].coding[0].code == "EMAILWRIT"
    assert c.sender.reference == f"Practitioner/{me['_id']}" and c.note is None


async def test_search_by_task_and_sent_with_paging(gw):
    org = "comm-search"
    me = await gw.user(org, "biller")
    a, b = created(org, 1), created(org, 2)
    for t in (a, b):
        await gw.deliver(t, org)
    ids = [uuid.uuid4() for _ in range(6)]  # started at 15:00, 16:00 … 20:00 on 7 Dec 2026
    for i, iid in enumerate(ids):
        task = a.task_id if i < 3 else b.task_id if i < 5 else None
        await logged(gw, org, interaction_id=iid, task_id=task, started_at=AT + timedelta(hours=i),
                     status="completed")
    on_a = {str(x) for x in ids[:3]}

    async def found(**params) -> list[str]:
        return matches(bundle_of(await gw.client.get("/fhir/Communication", params=params,
                                                     headers=h(me))))
    assert set(await found()) == {str(x) for x in ids}
    assert await found() == [str(x) for x in ids]  # oldest first
    assert set(await found(**{"part-of": f"Task/{a.task_id}"})) == on_a
    assert set(await found(**{"based-on": str(a.task_id)})) == on_a
    assert set(await found(**{"based-on": f"http://gw/fhir/Task/{a.task_id}"})) == on_a
    assert len(await found(**{"part-of": f"Task/{a.task_id},Task/{b.task_id}"})) == 5
    assert await found(**{"part-of": f"Task/{a.task_id}", "based-on": f"Task/{b.task_id}"}) == []
    assert await found(**{"part-of": f"Task/{uuid.uuid4()}"}) == []

    async def sent(*values) -> list[str]:
        r = await gw.client.get("/fhir/Communication", params=[("sent", v) for v in values],
                                headers=h(me))
        return matches(bundle_of(r))
    s = [str(x) for x in ids]
    assert await sent("ge2026-12-07T16:00:00Z", "lt2026-12-07T18:00:00Z") == s[1:3]
    assert await sent("gt2026-12-07T16:00:00Z") == s[2:]
    assert await sent("le2026-12-07T16:00:00Z") == s[:2]
    assert await sent("lt2026-12-07T16:00:00Z") == s[:1]
    assert await sent("2026-12-07T17:00:00Z") == await sent("eq2026-12-07T18:00:00+01:00") == s[2:3]
    assert await sent("ne2026-12-07T17:00:00Z") == s[:2] + s[3:]
    assert await sent("2026-12-07") == await sent("eq2026-12") == await sent("2026") == s
    assert await sent("gt2026-12-07") == await sent("lt2026-12-07") == []
    assert await sent("ge2026-12-08") == [] and await sent("le2026-12-07") == s
    assert await sent("2026-12-07T15:00:00Z,2026-12-07T20:00:00Z") == [s[0], s[5]]
    assert await sent("ge2026-12-07T19:00") == s[4:]  # no zone: UTC

    seen, url, pages = [], "/fhir/Communication?_count=2", 0
    while url:
        page = bundle_of(await gw.client.get(url, headers=h(me)))
        assert page.total == 6 and len(page.entry) <= 2
        seen += matches(page)
        url = next((link.url for link in page.link if link.relation == "next"), None)
        pages += 1
    assert pages == 3 and sorted(seen) == sorted(s) and len(seen) == len(set(seen))
    page = bundle_of(await gw.client.get("/fhir/Communication", headers=h(me), params={
        "part-of": f"Task/{a.task_id}", "_count": 2}))
    nxt = next(link.url for link in page.link if link.relation == "next")
    assert f"part-of=Task%2F{a.task_id}" in nxt
    last = bundle_of(await gw.client.get(nxt, headers=h(me)))
    assert set(matches(page) + matches(last)) == on_a and len(matches(last)) == 1
    assert bundle_of(await gw.client.get("/fhir/Communication", params={"_count": 0},
                                         headers=h(me))).total == 6


async def test_another_orgs_communications_are_not_found_nor_found(gw):
    org, other = "comm-mine", "comm-theirs"
    await gw.user(org, "biller")
    them = await gw.user(other, "practice_manager")
    t = created(org, 1)
    await gw.deliver(t, org)
    iid = uuid.uuid4()
    await logged(gw, org, interaction_id=iid, task_id=t.task_id, status="completed")
    r = await gw.client.get(f"/fhir/Communication/{iid}", headers=h(them))
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/fhir+json")
    assert OperationOutcome.model_validate(r.json()).issue[0].code == "not-found"
    assert str(t.task_id) not in r.text and "aetna" not in r.text
    for params in ({}, {"part-of": f"Task/{t.task_id}"}, {"sent": "2026-12-07"}):
        b = bundle_of(await gw.client.get("/fhir/Communication", params=params, headers=h(them)))
        assert b.total == 0 and matches(b) == []


async def test_errors_are_operation_outcomes(gw):
    me = await gw.user("comm-err", "biller")
    for params, prefer, status, code, says in [
        ({"sent": "tomorrow"}, {}, 400, "invalid", "'tomorrow'"),
        ({"sent": "ge2026-13-01"}, {}, 400, "invalid", "ge2026-13-01"),
        ({"sent": "xx2026-12-01"}, {}, 400, "invalid", "xx2026"),
        ({"sent": "ge2026-12-07T25:00:00Z"}, {}, 400, "invalid", "dateTime"),
        ({"part-of": "Patient/PT-1"}, {}, 400, "invalid", "name a Task"),
        ({"based-on": "Task/nope"}, {}, 400, "invalid", "not a Task id"),
        ({"_count": "9999"}, {}, 400, "invalid", "_count"),
        ({"sent:missing": "true"}, {}, 400, "not-supported", "modifier"),
        ({"colour": "blue"}, STRICT, 400, "not-supported", "'colour'"),
    ]:
        r = await gw.client.get("/fhir/Communication", params=params, headers={**h(me), **prefer})
        assert r.status_code == status, (params, r.text)
        issue = OperationOutcome.model_validate(r.json()).issue[0]
        assert issue.code == code and says in issue.diagnostics, (params, issue.diagnostics)
    b = bundle_of(await gw.client.get("/fhir/Communication", params={"colour": "blue"},
                                      headers=h(me)))
    [warning] = [e for e in b.entry if e.search.mode == "outcome"]
    assert "colour" in warning.resource.issue[0].diagnostics
    assert "colour" not in b.link[0].url
    for path in ("/fhir/Communication/not-a-uuid", f"/fhir/Communication/{uuid.uuid4()}"):
        r = await gw.client.get(path, headers=h(me))
        assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"
    r = await gw.client.get("/fhir/Communication")
    assert r.status_code == 401 and r.json()["resourceType"] == "OperationOutcome"


async def test_capability_statement_names_communication(gw):
    cs = CapabilityStatement.model_validate((await gw.client.get("/fhir/metadata")).json())
    [res] = [x for x in cs.rest[0].resource if x.type == "Communication"]
    assert {p.name: p.type for p in res.searchParam} == {
        "part-of": "reference", "based-on": "reference", "sent": "date"}
    assert {i.code for i in res.interaction} == {"read", "search-type"}


@pytest.mark.parametrize("raw, lo, hi", [
    ("2026", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    ("le2026-12", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    ("gt2026-02-28", datetime(2026, 2, 28, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),
    ("2026-12-07T15:00Z", datetime(2026, 12, 7, 15, tzinfo=UTC),
     datetime(2026, 12, 7, 15, 1, tzinfo=UTC)),
    ("2026-12-07T15:00:00.5Z", datetime(2026, 12, 7, 15, 0, 0, 500_000, tzinfo=UTC),
     datetime(2026, 12, 7, 15, 0, 0, 600_000, tzinfo=UTC)),
    ("2026-12-07T16:00:00 01:00", datetime(2026, 12, 7, 15, tzinfo=UTC),  # unescaped +
     datetime(2026, 12, 7, 15, 0, 1, tzinfo=UTC)),
])
def test_a_date_value_spans_its_precision(raw, lo, hi):
    _, got_lo, got_hi = date_period(raw)
    assert (got_lo, got_hi) == (lo, hi)
    with pytest.raises(FhirError):
        date_period("9999-12-31T23:59:59.999999+00:00x")


def test_every_status_maps_to_an_event_status():
    states = ("requested pending queued initiated ringing in-progress completed busy no-answer "
              "failed canceled sent delivered undelivered received refused").split()
    got = {s: communications.STATUS[s] for s in states}
    assert {s for s, v in got.items() if v == "stopped"} == {
        "busy", "no-answer", "failed", "canceled", "undelivered"}
    assert {s for s, v in got.items() if v == "completed"} == {
        "completed", "delivered", "sent", "received"}
    assert got["refused"] == "not-done" and got["in-progress"] == "in-progress"
    assert set(communications.STOPPED) == {s for s, v in got.items() if v == "stopped"}
