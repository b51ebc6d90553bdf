"""What every FHIR interaction of this server shares: who is asking, the one translation of
business errors into OperationOutcomes, the base URL, parameter checks and the searchset
Bundle with its paging links (Task and Communication answer alike)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Request
from fhir.resources.R4B.bundle import Bundle

from services.gateway import auth, deps, domain
from services.gateway.auth import User
from services.gateway.errors import GatewayError, Invalid, NotFound, Refused, Stale, Unauthorized
from services.gateway.fhir.resources import (
    MAX_COUNT,
    FhirError,
    fhir_response,
    operation_outcome,
    outcome,
)
from services.gateway.fhir.search import split_params, strict_handling

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


async def handle(fn):
    """Run an interaction; every error it raises is answered as an OperationOutcome."""
    try:
        return await fn()
    except FhirError as e:
        return outcome(e.status, e.code, e.diagnostics, e.headers)
    except GatewayError as e:
        return translate(e)


async def user_of(request: Request) -> User:
    """The signed-in user: a Bearer token when the request has an Authorization header,
    else the session cookie."""
    token = request.cookies.get(auth.COOKIE)
    if request.headers.get("authorization"):
        scheme, _, token = request.headers["authorization"].partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise FhirError(401, "login", "Authorization: expected 'Bearer <token>'")
    return deps.user_of_token(request, token)


def base(request: Request) -> str:
    """This server's FHIR base URL, as the client reached it."""
    return f"{str(request.base_url).rstrip('/')}/fhir"


def uuid_param(value: str, kind: str = "Task") -> uuid.UUID:
    """A logical id of ours (a UUID); anything else names nothing here (404)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise FhirError(404, "not-found", f"{kind}/{value} not found") from None


def int_param(raw: str, name: str, lo: int, hi: int) -> int:
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise FhirError(400, "invalid", f"{name} must be a whole number from {lo} to {hi}")
    return int(raw)


@dataclass
class Query:
    used: list[tuple[str, str]]     # as sent, for the links
    ignored: list[str]              # unknown names (lenient handling)
    params: dict[str, list[str]]    # the used ones by name, _count and _offset taken out
    count: int
    offset: int


def search_params(request: Request, known: tuple[str, ...]) -> Query:
    """A search's parameters: those of ``known`` used (unknown ones ignored, or refused
    with ``Prefer: handling=strict``), with its page (_count, _offset)."""
    used, ignored = split_params(request.query_params.multi_items(), known=known,
                                 strict=strict_handling(request.headers.getlist("prefer")))
    params: dict[str, list[str]] = {}
    for k, v in used:
        params.setdefault(k, []).append(v)
    count = int_param(params.pop("_count", ["50"])[-1], "_count", 0, MAX_COUNT)
    offset = int_param(params.pop("_offset", ["0"])[-1], "_offset", 0, 100_000)
    return Query(used, ignored, params, count, offset)


def searchset(request: Request, kind: str, *, used: list[tuple[str, str]], ignored: list[str],
              total: int, count: int, offset: int, resources: list[dict]) -> dict:
    """A validated searchset Bundle: the page's resources, self/next/previous links showing
    the parameters used and only those, and a warning entry naming the ignored ones."""
    root = base(request)
    kept = [(k, v) for k, v in used if k not in ("_offset", "_count")]

    def link(rel: str, off: int) -> dict:
        return {"relation": rel,
                "url": f"{root}/{kind}?" + urlencode([*kept, ("_offset", off), ("_count", count)])}
    links = [link("self", offset)]
    if count and offset + count < total:
        links.append(link("next", offset + count))
    if count and offset > 0:
        links.append(link("previous", max(0, offset - count)))
    entries = [{"fullUrl": f"{root}/{kind}/{res['id']}", "resource": res,
                "search": {"mode": "match"}} for res in resources]
    if ignored:
        entries.append({"resource": operation_outcome(
            "not-supported", "search parameters ignored (not supported): "
            + ", ".join(ignored) + "; send Prefer: handling=strict to have them refused",
            severity="warning"), "search": {"mode": "outcome"}})
    bundle = Bundle.model_validate({"resourceType": "Bundle", "type": "searchset",
                                    "total": total, "link": links, "entry": entries})
    return bundle.model_dump(mode="json", by_alias=True, exclude_none=True)


def search_response(request: Request, kind: str, **kw):
    return fhir_response(searchset(request, kind, **kw))
