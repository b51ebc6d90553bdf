"""FHIR R4 API at /fhir: Task read, search, status update, _history; Communication's
routes (communications.py); the CapabilityStatement. JSON as application/fhir+json. Every
error, a business error included, is answered as an OperationOutcome (http.py's handle)."""
from __future__ import annotations

from fastapi import APIRouter, Header, Request
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.task import Task
from pydantic import ValidationError

from services.gateway import domain
from services.gateway.audit import store as audit_store
from services.gateway.auth import User
from services.gateway.fhir import communications
from services.gateway.fhir import store as fhir_store
from services.gateway.fhir.http import (
    base,
    handle,
    search_params,
    search_response,
    user_of,
    uuid_param,
)
from services.gateway.fhir.resources import PRIORITY_SYSTEM, FhirError, fhir_response, iso, to_fhir
from services.gateway.fhir.search import SEARCH_PARAMS
from services.gateway.tasks import actions
from services.gateway.tasks import store as task_store


def router() -> APIRouter:
    r = APIRouter(prefix="/fhir", tags=["fhir"])

    @r.get("/metadata", summary="CapabilityStatement")
    async def metadata(request: Request):
        cs = CapabilityStatement.model_validate({
            "resourceType": "CapabilityStatement", "status": "active", "kind": "instance",
            "date": "2026-11-23", "fhirVersion": "4.0.1", "format": ["json"],
            "software": {"name": "workqueue gateway", "version": "0.1.0"},
            "implementation": {"description": "Unified work queue: FHIR Task and Communication",
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
                              {"name": "_lastUpdated", "type": "date"}]},
                          communications.CAPABILITY]}]})
        return fhir_response(cs.model_dump(mode="json", by_alias=True, exclude_none=True))

    @r.get("/Task/{task_id}", summary="Read a Task")
    async def read(task_id: str, request: Request):
        async def go():
            user = await user_of(request)
            tid = uuid_param(task_id)
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
            q = search_params(request, SEARCH_PARAMS)
            sort = q.params.pop("_sort", ["due"])[-1]
            async with request.app.state.ctx.sessions() as s:
                total, rows = await fhir_store.search(s, q.params, user.org_id, sort=sort,
                                                      count=q.count, offset=q.offset)
            return search_response(request, "Task", used=q.used, ignored=q.ignored, total=total,
                                   count=q.count, offset=q.offset,
                                   resources=[to_fhir(dict(row._mapping)) for row in rows])
        return await handle(go)

    @r.put("/Task/{task_id}", summary="Update a Task's status and businessStatus")
    async def update(task_id: str, request: Request,
                     if_match: str | None = Header(None, alias="If-Match")):
        async def go():
            user = await user_of(request)
            tid = uuid_param(task_id)
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
            tid = str(uuid_param(task_id))
            async with request.app.state.ctx.sessions() as s:
                row = await task_store.get_task(s, user.org_id, uuid_param(task_id))
                versions = await task_store.versions_of(s, user.org_id, uuid_param(task_id)) if row else []
                if not versions:
                    raise FhirError(404, "not-found", f"Task/{task_id} not found")
                await _audit_read(s, user, row, history=True)
            # FHIR's history bundle: fullUrl is the resource's (bdl-8: never version
            # specific); the version is in meta.versionId, the request and the ETag.
            full_url = f"{base(request)}/Task/{tid}"
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
            tid = uuid_param(task_id)
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

    r.include_router(communications.router())
    return r


async def _audit_read(s, user: User, row, **detail) -> None:
    """Every FHIR read of a task is audited (and committed with its audit row)."""
    await audit_store.audit(s, org_id=user.org_id, actor_id=user.id, action="read", task_row=row,
                            detail={"via": "fhir", **detail})
    await s.commit()

