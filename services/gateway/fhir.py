"""FHIR R4 Task API at /fhir: read, search, status update, _history, CapabilityStatement.
Resources are built as plain dicts and validated with fhir.resources (R4B's Task matches
R4's); every error is an OperationOutcome; JSON as application/fhir+json."""
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
PRIORITY = {"Urgent": "stat", "High": "asap", "Routine": "urgent", "Low": "routine"}
PRIORITY_BACK = {v: k for k, v in PRIORITY.items()}
TYPE_SYSTEM = "urn:workqueue:task-type"
SEARCH_PARAMS = ("status", "owner", "patient", "code", "business-status", "due",
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


def outcome(status: int, code: str, diagnostics: str, headers: dict | None = None) -> JSONResponse:
    oo = OperationOutcome.model_validate({"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": code, "diagnostics": diagnostics}]})
    return fhir_response(oo.model_dump(mode="json", by_alias=True, exclude_none=True),
                         status, headers)


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


def search_query(params: dict[str, list[str]], org_id: str):
    q = sa.select(store.task).where(store.task.c.org_id == org_id)
    t = store.task.c
    for name, values in params.items():
        if name not in SEARCH_PARAMS:
            raise FhirError(400, "not-supported",
                            f"search parameter '{name}' is not supported; use {', '.join(SEARCH_PARAMS)}")
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
                          "type": "Task", "versioning": "versioned", "readHistory": True,
                          "updateCreate": False,
                          "interaction": [{"code": c} for c in
                                          ("read", "vread", "search-type", "update",
                                           "history-instance")],
                          "searchParam": [
                              {"name": "status", "type": "token"},
                              {"name": "owner", "type": "reference"},
                              {"name": "patient", "type": "reference"},
                              {"name": "code", "type": "token"},
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
            params: dict[str, list[str]] = {}
            for k, v in request.query_params.multi_items():
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
            base = str(request.url.remove_query_params(["_offset"]))
            page = dict(request.query_params)

            def link(rel: str, off: int) -> dict:
                return {"relation": rel, "url": f"{str(request.base_url).rstrip('/')}/fhir/Task?"
                        + urlencode({**page, "_offset": off, "_count": count})}
            links = [{"relation": "self", "url": str(request.url)}]
            if offset + count < total:
                links.append(link("next", offset + count))
            if offset > 0:
                links.append(link("previous", max(0, offset - count)))
            bundle = Bundle.model_validate({
                "resourceType": "Bundle", "type": "searchset", "total": total, "link": links,
                "entry": [{"fullUrl": f"{base.split('/fhir/')[0]}/fhir/Task/{row.id}",
                           "resource": to_fhir(dict(row._mapping)),
                           "search": {"mode": "match"}} for row in rows]})
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
            expected = domain.version_from_etag(if_match) if if_match else None
            if if_match and expected is None:
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
            async with request.app.state.ctx.sessions() as s:
                versions = await store.versions_of(s, user.org_id, _uuid(task_id))
            if not versions:
                raise FhirError(404, "not-found", f"Task/{task_id} not found")
            bundle = Bundle.model_validate({
                "resourceType": "Bundle", "type": "history", "total": len(versions),
                "entry": [{"fullUrl": f"Task/{task_id}/_history/{v.version}",
                           "resource": to_fhir(v.snapshot),
                           "request": {"method": "POST" if v.version == 1 else "PUT",
                                       "url": f"Task/{task_id}"},
                           "response": {"status": "200", "lastModified": _iso(v.at)}}
                          for v in versions]})
            return fhir_response(bundle.model_dump(mode="json", by_alias=True, exclude_none=True))
        return await handle(go)

    return r


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
