"""FHIR R4 Communication at /fhir/Communication (read and search, read-only): every payer
interaction (a call, an SMS or an e-mail, out or in) is one Communication, validated with
fhir.resources (R4B's Communication matches R4's), of the signed-in user's org only.

- id: the interaction's id. meta.versionId: ``{revision}.{updated_at in µs}``. The revision
  alone would not do: staff's outcome and attaching an inbound item change the resource
  but not payer_comms's revision; updated_at changes on every write (0 is the revision of
  a call asked for here and not yet taken up by payer_comms).
- status (event-status) from ours: see STATUS; ours is kept in an extension.
- sent: started_at, for every one (for an inbound one, when it reached us: the only time
  known); an inbound one is also ``received`` then. The ``sent`` search is on started_at.
- partOf and basedOn: its Task (none while in triage). sender and recipient: the user
  (Practitioner) and the payer (Organization), by direction.
- payload: a summary without patient data; the outcome fields as notes."""
from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fhir.resources.R4B.communication import Communication

from services.gateway.audit import store as audit_store
from services.gateway.fhir.http import handle, search_params, search_response, user_of, uuid_param
from services.gateway.fhir.resources import FhirError, fhir_response, iso
from services.gateway.fhir.search import COMMUNICATION_SEARCH_PARAMS, date_period
from services.gateway.interactions import store
from services.gateway.tasks import store as task_store

STATUS = {
    **dict.fromkeys(("requested", "pending", "accepted", "scheduled", "queued", "initiated",
                     "ringing"), "preparation"),
    **dict.fromkeys(("in-progress", "sending"), "in-progress"),
    **dict.fromkeys(("completed", "delivered", "sent", "received", "read"), "completed"),
    "refused": "not-done",
    **dict.fromkeys(("busy", "no-answer", "failed", "canceled", "undelivered"), "stopped"),
}
STOPPED = {"busy": "the line was busy", "no-answer": "no answer", "failed": "it failed",
           "canceled": "canceled before it was answered", "undelivered": "not delivered"}
STATUS_EXTENSION = "urn:workqueue:fhir:StructureDefinition:interaction-status"
STATUS_SYSTEM = "urn:workqueue:interaction-status"
MODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
MEDIUM = {"voice": ("PHONE", "telephone", "Call"), "email": ("EMAILWRIT", "email", "E-mail"),
          "sms": ("WRITTEN", "written", "SMS")}
WORDS = {"voice": "call", "sms": "SMS", "email": "e-mail"}
CAPABILITY = {
    "type": "Communication", "versioning": "versioned", "readHistory": False,
    "updateCreate": False, "interaction": [{"code": "read"}, {"code": "search-type"}],
    "searchParam": [
        {"name": "part-of", "type": "reference", "documentation": "Task/<id> or <id>"},
        {"name": "based-on", "type": "reference", "documentation": "Task/<id> or <id>"},
        {"name": "sent", "type": "date", "documentation": (
            "when it started (inbound: when it reached us); prefixes eq, ne, lt, le, gt, ge; "
            "a date, a month, a year or a dateTime")}]}
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def reference(kind: str, value: str, display: str | None = None) -> dict:
    """A Reference to one of ours: by id when the value is a valid FHIR id (as Task's
    owner and patient are), else by identifier (no literal reference can name it)."""
    ref = ({"reference": f"{kind}/{value}"} if FHIR_ID.fullmatch(value) else
           {"type": kind, "identifier": {"system": f"urn:workqueue:{kind.lower()}", "value": value}})
    return {**ref, **({"display": display} if display else {})}


def duration(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return " ".join(f"{n} {unit}" for n, unit in ((h, "h"), (m, "min"), (s, "s"))
                    if n or (unit == "s" and not h and not m))


def content(it: dict) -> str:
    """What happened, in a line, without patient data: payer_comms's summary (it has none)
    or channel and direction, then the length, the reference number and the next step."""
    first = it.get("summary") or f"{it['direction'].capitalize()} {WORDS.get(it['channel'], 'contact')}"
    parts = [first]
    if it.get("duration_s") is not None:
        parts.append(duration(it["duration_s"]))
    if it.get("reference_number"):
        parts.append(f"reference {it['reference_number']}")
    if it.get("next_step"):
        parts.append(f"next step: {it['next_step']}")
    return ", ".join(parts)


def notes(it: dict) -> list[dict]:
    """The outcome staff gave, one annotation a field."""
    said = [("Reference number", it.get("reference_number")),
            ("Claim status", it.get("claim_status")),
            ("Payment promised by", iso(it.get("promised_payment_date"))),
            ("Missing information", it.get("missing_information")),
            ("Next step", it.get("next_step")),
            ("Follow up on", iso(it.get("follow_up_date")))]
    by = {"authorReference": reference("Practitioner", it["outcome_by"])} if it.get("outcome_by") else {}
    at = {"time": iso(it["outcome_at"])} if it.get("outcome_at") else {}
    return [{"text": f"{label}: {value}", **by, **at} for label, value in said if value]


def version_id(it: dict) -> str:
    at = it["updated_at"]
    return f"{it['revision']}.{int(at.timestamp()) * 1_000_000 + at.microsecond}"


def to_fhir(it: dict[str, Any], payer_name: str | None = None) -> dict:
    """A payer_interaction row as a validated FHIR R4 Communication."""
    status = STATUS.get(it["status"], "unknown")
    code, display, text = MEDIUM.get(it["channel"], ("", "", it["channel"]))
    res: dict[str, Any] = {
        "resourceType": "Communication",
        "id": str(it["id"]),
        "meta": {"versionId": version_id(it),
                 "lastUpdated": iso(it["updated_at"])},
        "extension": [{"url": STATUS_EXTENSION, "valueCoding": {
            "system": STATUS_SYSTEM, "code": it["status"]}}],
        "status": status,
        "medium": [{"coding": [{"system": MODE_SYSTEM, "code": code, "display": display}],
                    "text": text} if code else {"text": text}],
        "sent": iso(it["started_at"]),
        "payload": [{"contentString": content(it)}],
    }
    if status == "not-done":
        res["statusReason"] = {"text": it.get("refusal") or "refused"}
    elif status == "stopped":
        res["statusReason"] = {"text": STOPPED.get(it["status"], it["status"])}
    if it["direction"] == "inbound":
        res["received"] = iso(it["started_at"])
    if it.get("task_id"):
        res["partOf"] = res["basedOn"] = [{"reference": f"Task/{it['task_id']}"}]
    user = [reference("Practitioner", it["user_id"])] if it.get("user_id") else []
    payer = [reference("Organization", it["payer_id"], payer_name)] if it.get("payer_id") else []
    sender, recipient = (user, payer) if it["direction"] == "outbound" else (payer, user)
    if sender:
        res["sender"] = sender[0]
    if recipient:
        res["recipient"] = recipient
    if note := notes(it):
        res["note"] = note
    return Communication.model_validate(res).model_dump(mode="json", by_alias=True, exclude_none=True)


def task_of(raw: str) -> uuid.UUID:
    """A part-of or based-on value: ``Task/{id}``, the bare id, or its absolute URL."""
    kind, _, value = raw.rpartition("/")
    if kind and not (kind == "Task" or kind.endswith("/Task")):
        raise FhirError(400, "invalid", f"'{raw}': part-of and based-on name a Task (Task/<id>)")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise FhirError(400, "invalid", f"'{raw}' is not a Task id (Task/<uuid>)") from None


async def payer_names(s, org_id: str, rows) -> dict[uuid.UUID, str]:
    """The payer's name of each row, from its task (when the task names the same payer)."""
    ids = list({r.task_id for r in rows if r.task_id})
    tasks = {t.id: t for t in await task_store.tasks_by_id(s, org_id, ids)} if ids else {}
    return {r.id: tasks[r.task_id].payer_name for r in rows
            if r.task_id in tasks and tasks[r.task_id].payer_id == r.payer_id}


def router() -> APIRouter:
    r = APIRouter(tags=["fhir"])

    @r.get("/Communication/{communication_id}", summary="Read a Communication (a payer interaction)")
    async def read(communication_id: str, request: Request):
        async def go():
            user = await user_of(request)
            iid = uuid_param(communication_id, "Communication")
            async with request.app.state.ctx.sessions() as s:
                it = await store.get(s, user.org_id, iid)
                if it is None:
                    raise FhirError(404, "not-found", f"Communication/{communication_id} not found")
                task = await task_store.get_task(s, user.org_id, it.task_id) if it.task_id else None
                # Every FHIR read is audited, as a Task's (on its task, when it has one).
                await audit_store.audit(s, org_id=user.org_id, actor_id=user.id, action="read",
                                        task_row=task, detail={"via": "fhir", "communication_id": str(iid)})
                await s.commit()
            name = task.payer_name if task is not None and task.payer_id == it.payer_id else None
            res = to_fhir(dict(it._mapping), name)
            return fhir_response(res, headers={"ETag": f'W/"{res["meta"]["versionId"]}"'})
        return await handle(go)

    @r.get("/Communication", summary="Search Communications (searchset Bundle with paging links)")
    async def search(request: Request):
        async def go():
            user = await user_of(request)
            q = search_params(request, COMMUNICATION_SEARCH_PARAMS)
            task_ids: set[uuid.UUID] | None = None
            for name in ("part-of", "based-on"):  # both name the Task; each value narrows
                for raw in q.params.get(name, ()):
                    wanted = {task_of(v) for v in raw.split(",")}
                    task_ids = wanted if task_ids is None else task_ids & wanted
            started = [[date_period(v) for v in raw.split(",")] for raw in q.params.get("sent", ())]
            async with request.app.state.ctx.sessions() as s:
                total, rows = await store.search(
                    s, user.org_id, task_ids=None if task_ids is None else sorted(task_ids),
                    started=started, count=q.count, offset=q.offset)
                names = await payer_names(s, user.org_id, rows)
            return search_response(request, "Communication", used=q.used, ignored=q.ignored,
                                   total=total, count=q.count, offset=q.offset,
                                   resources=[to_fhir(dict(r._mapping), names.get(r.id)) for r in rows])
        return await handle(go)

    return r
