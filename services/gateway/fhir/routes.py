"""FHIR R4 Task API at /fhir: read, search, status update, _history, CapabilityStatement;
JSON as application/fhir+json. Every error, a business error included, is answered as an
OperationOutcome, here and only here."""
from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Request
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.task import Task
from pydantic import ValidationError

from services.gateway import auth, deps, domain
from services.gateway.audit import store as audit_store
from services.gateway.auth import User
from services.gateway.errors import GatewayError, Invalid, NotFound, Refused, Stale, Unauthorized
from services.gateway.fhir import store as fhir_store
from services.gateway.fhir.resources import (
    MAX_COUNT,
    PRIORITY_SYSTEM,
    FhirError,
    fhir_response,
    iso,
    operation_outcome,
    outcome,
    to_fhir,
)
from services.gateway.fhir.search import split_params, strict_handling
from services.gateway.tasks import actions
from services.gateway.tasks import store as task_store

# A business error as FHIR answers it: (status, OperationOutcome issue code).
OUTCOMES = {NotFound: (404, "not-found"), Stale: (412, "conflict"),
            Refused: (409, "business-rule"), Invalid: (400, "invalid"),
            Unauthorized: (401, "login")}


def translate(exc: GatewayError):
    """The one translation of business errors into OperationOutcomes."""
    status, code = next((v for cls, v in OUTCOMES.items() if isinstance(exc, cls)),
                        (exc.status, "processing"))
    headers = {"ETag": domain.etag(exc.current)} if isinstance(exc, Stale) else None
    return outcome(status, code, str(exc), headers)


def router() -> APIRouter:
    r = APIRouter(prefix="/fhir", tags=["fhir"])

    async def handle(fn):
        try:
            return await fn()
        except FhirError as e:
            return outcome(e.status, e.code, e.diagnostics, e.headers)
        except GatewayError as e:
            return translate(e)

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
                row = await task_store.get_task(s, user.org_id, tid)
                if row is None:
                    raise FhirError(404, "not-found", f"Task/{task_id} not found")
                await _audit_read(s, user, row)
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
            async with request.app.state.ctx.sessions() as s:
                total, rows = await fhir_store.search(s, params, user.org_id, sort=sort,
                                                      count=count, offset=offset)
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
                row = await task_store.get_task(s, user.org_id, tid)
            return fhir_response(to_fhir(dict(row._mapping)),
                                 headers={"ETag": domain.etag(version)})
        return await handle(go)

    @r.get("/Task/{task_id}/_history", summary="Every version of a Task")
    async def history(task_id: str, request: Request):
        async def go():
            user = await user_of(request)
            tid = str(_uuid(task_id))
            async with request.app.state.ctx.sessions() as s:
                row = await task_store.get_task(s, user.org_id, _uuid(task_id))
                versions = await task_store.versions_of(s, user.org_id, _uuid(task_id)) if row else []
                if not versions:
                    raise FhirError(404, "not-found", f"Task/{task_id} not found")
                await _audit_read(s, user, row, history=True)
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
                                        "lastModified": iso(v.at)}}
                          for v in versions]})
            return fhir_response(bundle.model_dump(mode="json", by_alias=True, exclude_none=True))
        return await handle(go)

    @r.get("/Task/{task_id}/_history/{version_id}", summary="One version of a Task (vread)")
    async def vread(task_id: str, version_id: str, request: Request):
        async def go():
            user = await user_of(request)
            tid = _uuid(task_id)
            async with request.app.state.ctx.sessions() as s:
                row = await task_store.get_task(s, user.org_id, tid)
                version = None
                if row is not None and version_id.isdigit() and int(version_id) < 2**31:
                    version = await task_store.version_of(s, user.org_id, tid, int(version_id))
                if version is None:
                    raise FhirError(404, "not-found", f"Task/{task_id}/_history/{version_id} not found")
                await _audit_read(s, user, row, version=version.version)
            return fhir_response(to_fhir(version.snapshot),
                                 headers={"ETag": domain.etag(version.version)})
        return await handle(go)

    return r


async def _audit_read(s, user: User, row, **detail) -> None:
    """Every FHIR read of a task is audited (and committed with its audit row)."""
    await audit_store.audit(s, org_id=user.org_id, actor_id=user.id, action="read", task_row=row,
                            detail={"via": "fhir", **detail})
    await s.commit()


def _base(request: Request) -> str:
    """This server's FHIR base URL, as the client reached it."""
    return f"{str(request.base_url).rstrip('/')}/fhir"


async def user_of(request: Request) -> User:
    """The signed-in user: a Bearer token when the request has an Authorization header,
    else the session cookie."""
    token = request.cookies.get(auth.COOKIE)
    if request.headers.get("authorization"):
        scheme, _, token = request.headers["authorization"].partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise FhirError(401, "login", "Authorization: expected 'Bearer <token>'")
    return deps.user_of_token(request, token)


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise FhirError(404, "not-found", f"Task/{value} not found") from None


def _int(raw: str, name: str, lo: int, hi: int) -> int:
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise FhirError(400, "invalid", f"{name} must be a whole number from {lo} to {hi}")
    return int(raw)
