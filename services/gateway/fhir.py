"""FHIR R4 Task API at /fhir: read, search, status update, _history, CapabilityStatement.
Resources are built as plain dicts and validated with fhir.resources (R4B's Task matches
R4's); every error is an OperationOutcome; JSON as application/fhir+json.

Search is lenient, as FHIR's default: a parameter this server does not know is ignored and
reported (the self link shows only the parameters used, and an OperationOutcome entry
warns); with ``Prefer: handling=strict`` it is a 400. An unsupported modifier on a known
parameter (``status:not``) is always refused, as the spec requires."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.task import Task
from pydantic import ValidationError

from services.gateway import actions, auth, domain, store

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
SEARCH_PARAMS = ("status", "owner", "patient", "code", "priority", "business-status", "due",
                 "_lastUpdated", "_sort", "_count", "_offset")
SORTS = {"due": store.task.c.due_at, "_lastUpdated": store.task.c.updated_at,
         "authored-on": store.task.c.created_at, "priority": store.task.c.priority_rank}
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


def _iso(v) -> str | None:
    if v is None:
        return None
    return v if isinstance(v, str) else v.isoformat()


def to_fhir(t: dict[str, Any]) -> dict:
    """A task row (or a stored snapshot of one) as a validated FHIR R4 Task."""
    res: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(t["id"]),
        "meta": {"versionId": str(t["version"]), "lastUpdated": _iso(t["updated_at"])},
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
        "authoredOn": _iso(t["created_at"]),
        "lastModified": _iso(t["updated_at"]),
        "restriction": {"period": {"end": _iso(t["due_at"])}},
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


def _date_filter(col, raw: str):
    """FHIR date search with a prefix: eq, lt, le, gt, ge (default eq → the same day)."""
    prefix, value = (raw[:2], raw[2:]) if raw[:2] in ("eq", "lt", "le", "gt", "ge") else ("eq", raw)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise FhirError(400, "invalid", f"'{raw}' is not a date (e.g. ge2026-12-01)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if prefix == "eq":
        if len(value) == 10:
            return sa.func.date(sa.func.timezone("UTC", col)) == when.date()
        return col == when
    return {"lt": col < when, "le": col <= when, "gt": col > when, "ge": col >= when}[prefix]


def strict_handling(prefer: list[str]) -> bool:
    """Whether the client asked for ``Prefer: handling=strict`` (among its preferences)."""
    prefs = (p.split(";")[0].replace(" ", "").lower() for h in prefer for p in h.split(","))
    return "handling=strict" in prefs


def split_params(items: list[tuple[str, str]], *, strict: bool) -> tuple[list, list[str]]:
    """The search parameters this server uses, and the names of those it ignores (unknown
    ones, in lenient mode). Strict mode refuses an unknown one; a modifier on a known
    parameter is always refused (FHIR: a server SHALL reject an unsupported modifier)."""
    used, ignored = [], []
    for name, value in items:
        base, _, modifier = name.partition(":")
        if base in SEARCH_PARAMS:
            if modifier:
                raise FhirError(400, "not-supported",
                                f"search parameter '{name}': modifier ':{modifier}' is not supported")
            used.append((name, value))
        elif strict:
            raise FhirError(400, "not-supported",
                            f"search parameter '{name}' is not supported; use "
                            f"{', '.join(SEARCH_PARAMS)} (or leave out Prefer: handling=strict "
                            "to have unknown parameters ignored)")
        elif name not in ignored:
            ignored.append(name)
    return used, ignored


def _priorities(raw: str) -> list[str]:
    """Our priorities a priority token names: ``urn:workqueue:priority|Low`` exactly, a
    request-priority code (optionally with its system) as we publish it."""
    system, _, code = raw.rpartition("|")
    if system == PRIORITY_SYSTEM:
        if code not in domain.PRIORITIES:
            raise FhirError(400, "invalid", f"priority '{code}' is not one of "
                            f"{', '.join(domain.PRIORITIES)}")
        return [code]
    if system not in ("", FHIR_PRIORITY_SYSTEM) or code not in PRIORITY_FROM_FHIR:
        raise FhirError(400, "invalid", f"priority '{raw}': one of {', '.join(PRIORITY_FROM_FHIR)}"
                        f", or {PRIORITY_SYSTEM}|{'|'.join(domain.PRIORITIES)}")
    return [ours for ours, fhir in PRIORITY.items() if fhir == code]


def search_query(params: dict[str, list[str]], org_id: str):
    """Tasks of one org matching search parameters this server knows (split_params first)."""
    q = sa.select(store.task).where(store.task.c.org_id == org_id)
    t = store.task.c
    for name, values in params.items():
        for raw in values:
            ors = raw.split(",")
            if name == "status":
                bad = [s for s in ors if s not in domain.STATUSES]
                if bad:
                    raise FhirError(400, "invalid", f"status '{bad[0]}' is not a Task status")
                q = q.where(t.status.in_(ors))
            elif name == "owner":
                q = q.where(t.owner_id.in_([o.removeprefix("Practitioner/") for o in ors]))
            elif name == "patient":
                q = q.where(t.patient_id.in_([p.removeprefix("Patient/") for p in ors]))
            elif name == "code":
                q = q.where(t.task_type.in_([c.split("|")[-1] for c in ors]))
            elif name == "priority":
                q = q.where(t.priority.in_([p for o in ors for p in _priorities(o)]))
            elif name == "business-status":
                q = q.where(t.business_status.in_(ors))
            elif name == "due":
                q = q.where(_date_filter(t.due_at, raw))
            elif name == "_lastUpdated":
                q = q.where(_date_filter(t.updated_at, raw))
    return q


def router() -> APIRouter:
    r = APIRouter(prefix="/fhir", tags=["fhir"])

    async def handle(fn):
        try:
            return await fn()
        except FhirError as e:
            return outcome(e.status, e.code, e.diagnostics, e.headers)
        except actions.NotFound as e:
            return outcome(404, "not-found", str(e))
        except actions.StaleVersion as e:
            return outcome(412, "conflict", str(e), {"ETag": domain.etag(e.current)})
        except domain.TransitionRefused as e:
            return outcome(409, "business-rule", str(e))
        except (actions.Invalid, ValueError) as e:
            return outcome(400, "invalid", str(e))

    async def user_of(request: Request):
        cred = _bearer(request) if request.headers.get("authorization") else None
        try:
            return await auth.current_user(request, cred)
        except HTTPException as exc:  # answer as FHIR
            raise FhirError(401, "login", str(exc.detail)) from None

    @r.get("/metadata", summary="CapabilityStatement")
    async def metadata(request: Request):
        cs = CapabilityStatement.model_validate({
            "resourceType": "CapabilityStatement", "status": "active", "kind": "instance",
            "date": "2026-11-23", "fhirVersion": "4.0.1", "format": ["json"],
            "software": {"name": "workqueue gateway", "version": "0.1.0"},
            "implementation": {"description": "Unified work queue: FHIR Task",
                               "url": str(request.base_url).rstrip("/") + "/fhir"},
            "rest": [{"mode": "server",
                      "security": {"description": "Bearer token from POST /api/v1/auth/token"},
                      "resource": [{
                          "type": "Task", "versioning": "versioned-update", "readHistory": True,
                          "updateCreate": False,
                          "interaction": [{"code": c} for c in
                                          ("read", "vread", "search-type", "update",
                                           "history-instance")],
                          "searchParam": [
                              {"name": "status", "type": "token"},
                              {"name": "owner", "type": "reference"},
                              {"name": "patient", "type": "reference"},
                              {"name": "code", "type": "token"},
                              {"name": "priority", "type": "token", "documentation": (
                                  "routine, urgent, asap (as published), or "
                                  f"{PRIORITY_SYSTEM}|Urgent|High|Routine|Low exactly")},
                              {"name": "business-status", "type": "token"},
                              {"name": "due", "type": "date",
                               "documentation": "Task.restriction.period.end"},
                              {"name": "_lastUpdated", "type": "date"}]}]}]})
        return fhir_response(cs.model_dump(mode="json", by_alias=True, exclude_none=True))

    @r.get("/Task/{task_id}", summary="Read a Task")
    async def read(task_id: str, request: Request):
        async def go():
            user = await user_of(request)
            tid = _uuid(task_id)
            async with request.app.state.ctx.sessions() as s:
                row = await store.get_task(s, user.org_id, tid)
                if row is None:
                    raise FhirError(404, "not-found", f"Task/{task_id} not found")
                await store.audit(s, org_id=user.org_id, actor_id=user.id, action="read",
                                  task_row=row, detail={"via": "fhir"})
                await s.commit()
            return fhir_response(to_fhir(dict(row._mapping)),
                                 headers={"ETag": domain.etag(row.version)})
        return await handle(go)

    @r.get("/Task", summary="Search Tasks (searchset Bundle with paging links)")
    async def search(request: Request):
        async def go():
            user = await user_of(request)
            used, ignored = split_params(request.query_params.multi_items(),
                                         strict=strict_handling(request.headers.getlist("prefer")))
            params: dict[str, list[str]] = {}
            for k, v in used:
                params.setdefault(k, []).append(v)
            count = _int(params.pop("_count", ["50"])[-1], "_count", 0, MAX_COUNT)
            offset = _int(params.pop("_offset", ["0"])[-1], "_offset", 0, 100_000)
            sort = params.pop("_sort", ["due"])[-1]
            q = search_query(params, user.org_id)
            order = []
            for key in sort.split(","):
                desc = key.startswith("-")
                col = SORTS.get(key.lstrip("-"))
                if col is None:
                    raise FhirError(400, "not-supported",
                                    f"_sort '{key}': sort by {', '.join(SORTS)} (prefix - to reverse)")
                order.append(col.desc() if desc else col.asc())
            async with request.app.state.ctx.sessions() as s:
                total = (await s.execute(sa.select(sa.func.count()).select_from(
                    q.subquery()))).scalar_one()
                rows = (await s.execute(q.order_by(*order, store.task.c.id)
                                        .limit(count).offset(offset))).all()
            base = _base(request)
            # Every link shows the parameters used, and only those (ignored ones left out).
            kept = [(k, v) for k, v in used if k not in ("_offset", "_count")]

            def link(rel: str, off: int) -> dict:
                return {"relation": rel, "url": f"{base}/Task?"
                        + urlencode([*kept, ("_offset", off), ("_count", count)])}
            links = [link("self", offset)]
            if count and offset + count < total:
                links.append(link("next", offset + count))
            if count and offset > 0:
                links.append(link("previous", max(0, offset - count)))
            entries = [{"fullUrl": f"{base}/Task/{row.id}", "resource": to_fhir(dict(row._mapping)),
                        "search": {"mode": "match"}} for row in rows]
            if ignored:
                entries.append({"resource": operation_outcome(
                    "not-supported", "search parameters ignored (not supported): "
                    + ", ".join(ignored) + "; send Prefer: handling=strict to have them refused",
                    severity="warning"), "search": {"mode": "outcome"}})
            bundle = Bundle.model_validate({
                "resourceType": "Bundle", "type": "searchset", "total": total, "link": links,
                "entry": entries})
            return fhir_response(bundle.model_dump(mode="json", by_alias=True, exclude_none=True))
        return await handle(go)

    @r.put("/Task/{task_id}", summary="Update a Task's status and businessStatus")
    async def update(task_id: str, request: Request,
                     if_match: str | None = Header(None, alias="If-Match")):
        async def go():
            user = await user_of(request)
            tid = _uuid(task_id)
            try:
                body = Task.model_validate_json(await request.body())
            except ValidationError as exc:
                raise FhirError(400, "structure", f"not a valid FHIR Task: {exc.errors()[0]['msg']}"
                                f" at {'.'.join(str(x) for x in exc.errors()[0]['loc'])}") from None
            if body.status not in domain.STATUSES:
                raise FhirError(400, "invalid", f"status '{body.status}' is not a Task status: "
                                f"one of {', '.join(domain.STATUSES)}")
            if body.id and body.id != task_id:
                raise FhirError(400, "invalid", f"resource id {body.id} does not match Task/{task_id}")
            if not if_match:  # as the REST API: no blind overwrite of someone's change
                raise FhirError(428, "required", "If-Match is required: send the ETag "
                                '(W/"<versionId>") of the Task you loaded')
            expected = domain.version_from_etag(if_match)
            if expected is None:
                raise FhirError(400, "invalid", 'If-Match: expected W/"<versionId>"')
            business = body.businessStatus.text if body.businessStatus else None
            async with actions.unit_of_work(request.app.state.ctx) as uow:
                version = await actions.change_status(uow, user, tid, status=body.status,
                                                      business_status=business,
                                                      reason="FHIR update",
                                                      expected_version=expected)
            async with request.app.state.ctx.sessions() as s:
                row = await store.get_task(s, user.org_id, tid)
            return fhir_response(to_fhir(dict(row._mapping)),
                                 headers={"ETag": domain.etag(version)})
        return await handle(go)

    @r.get("/Task/{task_id}/_history", summary="Every version of a Task")
    async def history(task_id: str, request: Request):
        async def go():
            user = await user_of(request)
            tid = str(_uuid(task_id))
            async with request.app.state.ctx.sessions() as s:
                row = await store.get_task(s, user.org_id, _uuid(task_id))
                versions = await store.versions_of(s, user.org_id, _uuid(task_id)) if row else []
                if not versions:
                    raise FhirError(404, "not-found", f"Task/{task_id} not found")
                await store.audit(s, org_id=user.org_id, actor_id=user.id, action="read",
                                  task_row=row, detail={"via": "fhir", "history": True})
                await s.commit()
            # FHIR's history bundle: fullUrl is the resource's (bdl-8: never version
            # specific); the version is in meta.versionId, the request and the ETag.
            full_url = f"{_base(request)}/Task/{tid}"
            bundle = Bundle.model_validate({
                "resourceType": "Bundle", "type": "history", "total": len(versions),
                "entry": [{"fullUrl": full_url, "resource": to_fhir(v.snapshot),
                           "request": ({"method": "POST", "url": "Task"} if v.version == 1
                                       else {"method": "PUT", "url": f"Task/{tid}"}),
                           "response": {"status": "201" if v.version == 1 else "200",
                                        "etag": domain.etag(v.version),
                                        "lastModified": _iso(v.at)}}
                          for v in versions]})
            return fhir_response(bundle.model_dump(mode="json", by_alias=True, exclude_none=True))
        return await handle(go)

    @r.get("/Task/{task_id}/_history/{version_id}", summary="One version of a Task (vread)")
    async def vread(task_id: str, version_id: str, request: Request):
        async def go():
            user = await user_of(request)
            tid = _uuid(task_id)
            async with request.app.state.ctx.sessions() as s:
                row = await store.get_task(s, user.org_id, tid)
                version = None
                if row is not None and version_id.isdigit() and int(version_id) < 2**31:
                    version = await store.version_of(s, user.org_id, tid, int(version_id))
                if version is None:
                    raise FhirError(404, "not-found", f"Task/{task_id}/_history/{version_id} not found")
                await store.audit(s, org_id=user.org_id, actor_id=user.id, action="read",
                                  task_row=row, detail={"via": "fhir", "version": version.version})
                await s.commit()
            return fhir_response(to_fhir(version.snapshot),
                                 headers={"ETag": domain.etag(version.version)})
        return await handle(go)

    return r


def _base(request: Request) -> str:
    """This server's FHIR base URL, as the client reached it."""
    return f"{str(request.base_url).rstrip('/')}/fhir"


def _bearer(request: Request):
    from fastapi.security import HTTPAuthorizationCredentials

    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise FhirError(401, "login", "Authorization: expected 'Bearer <token>'")
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise FhirError(404, "not-found", f"Task/{value} not found") from None


def _int(raw: str, name: str, lo: int, hi: int) -> int:
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise FhirError(400, "invalid", f"{name} must be a whole number from {lo} to {hi}")
    return int(raw)
