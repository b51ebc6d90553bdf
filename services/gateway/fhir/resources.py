"""FHIR R4 Task resources of the gateway's tasks: built as plain dicts and validated with
fhir.resources (R4B's Task matches R4's); priorities mapped both ways; OperationOutcome for
every error."""
from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.task import Task

from services.gateway import domain

FHIR_JSON = "application/fhir+json"
# Our priorities as FHIR request-priority (routine < urgent < asap < stat), order preserving.
# FHIR defines its codes against "routine" (normal priority): our Routine is routine; High,
# "higher priority than routine", is urgent; Urgent, our highest, is asap ("as soon as
# possible, higher than urgent"). stat ("immediately, e.g. an emergency") is left unused:
# no work-queue task is an emergency, and a clinical system may page someone for stat.
# FHIR has nothing below routine, so Low is routine too; our exact priority travels in an
# extension (a Coding of PRIORITY_SYSTEM) so nothing is lost.
PRIORITY = {"Urgent": "asap", "High": "urgent", "Routine": "routine", "Low": "routine"}
PRIORITY_FROM_FHIR = {"stat": "Urgent", "asap": "Urgent", "urgent": "High", "routine": "Routine"}
FHIR_PRIORITY_SYSTEM = "http://hl7.org/fhir/request-priority"
PRIORITY_SYSTEM = "urn:workqueue:priority"
PRIORITY_EXTENSION = "urn:workqueue:fhir:StructureDefinition:task-priority"
TYPE_SYSTEM = "urn:workqueue:task-type"
MAX_COUNT = 200


class FhirError(Exception):
    def __init__(self, status: int, code: str, diagnostics: str, headers: dict | None = None):
        self.status, self.code, self.diagnostics, self.headers = status, code, diagnostics, headers
        super().__init__(diagnostics)


def fhir_response(resource: dict, status: int = 200, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(resource, status_code=status, media_type=FHIR_JSON, headers=headers)


def operation_outcome(code: str, diagnostics: str, severity: str = "error") -> dict:
    """A validated OperationOutcome with one issue."""
    oo = OperationOutcome.model_validate({"resourceType": "OperationOutcome", "issue": [
        {"severity": severity, "code": code, "diagnostics": diagnostics}]})
    return oo.model_dump(mode="json", by_alias=True, exclude_none=True)


def outcome(status: int, code: str, diagnostics: str, headers: dict | None = None) -> JSONResponse:
    return fhir_response(operation_outcome(code, diagnostics), status, headers)


def priority_of(resource: dict) -> str | None:
    """Our priority of a FHIR Task: the extension's exact one, else read from
    Task.priority (stat and asap are Urgent, urgent is High, routine is Routine)."""
    for ext in resource.get("extension") or ():
        coding = ext.get("valueCoding") or {}
        if ext.get("url") == PRIORITY_EXTENSION and coding.get("code") in domain.PRIORITIES:
            return coding["code"]
    return PRIORITY_FROM_FHIR.get(resource.get("priority"))


def iso(v) -> str | None:
    if v is None:
        return None
    return v if isinstance(v, str) else v.isoformat()


def to_fhir(t: dict[str, Any]) -> dict:
    """A task row (or a stored snapshot of one) as a validated FHIR R4 Task."""
    res: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(t["id"]),
        "meta": {"versionId": str(t["version"]), "lastUpdated": iso(t["updated_at"])},
        "identifier": [{"system": f"urn:workqueue:source:{t['source_kind']}",
                        "value": t["source_id"]}],
        "status": t["status"],
        "intent": "order",
        "priority": PRIORITY.get(t["priority"], "routine"),
        "extension": [{"url": PRIORITY_EXTENSION, "valueCoding": {
            "system": PRIORITY_SYSTEM, "code": t["priority"], "display": t["priority"]}}],
        "code": {"coding": [{"system": TYPE_SYSTEM, "code": t["task_type"]}],
                 "text": t["task_type"]},
        "description": t["title"],
        "authoredOn": iso(t["created_at"]),
        "lastModified": iso(t["updated_at"]),
        "restriction": {"period": {"end": iso(t["due_at"])}},
    }
    if t.get("business_status"):
        res["businessStatus"] = {"text": t["business_status"]}
    if t.get("patient_id"):
        res["for"] = {"reference": f"Patient/{t['patient_id']}",
                      **({"display": t["patient_name"]} if t.get("patient_name") else {})}
    if t.get("owner_id"):
        res["owner"] = {"reference": f"Practitioner/{t['owner_id']}"}
    if t.get("part_of"):
        res["partOf"] = [{"reference": f"Task/{t['part_of']}"}]
    if t.get("payer_name"):
        res["insurance"] = [{"display": t["payer_name"]}]
    claim = (t.get("details") or {}).get("claim_id")
    if claim:
        res["focus"] = {"identifier": {"system": "urn:workqueue:claim", "value": claim}}
    return Task.model_validate(res).model_dump(mode="json", by_alias=True, exclude_none=True)
