"""FHIR search over the task table: the conditions of the parameters this server knows,
the sort orders, and one page with the total."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import domain
from services.gateway.fhir.resources import (
    FHIR_PRIORITY_SYSTEM,
    PRIORITY,
    PRIORITY_FROM_FHIR,
    PRIORITY_SYSTEM,
    FhirError,
)
from services.gateway.tasks.store import task

SORTS = {"due": task.c.due_at, "_lastUpdated": task.c.updated_at,
         "authored-on": task.c.created_at, "priority": task.c.priority_rank}


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
    q = sa.select(task).where(task.c.org_id == org_id)
    t = task.c
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


def sort_order(sort: str) -> list:
    """ORDER BY for a _sort value (keys comma-separated, ``-`` reverses one)."""
    order = []
    for key in sort.split(","):
        col = SORTS.get(key.lstrip("-"))
        if col is None:
            raise FhirError(400, "not-supported",
                            f"_sort '{key}': sort by {', '.join(SORTS)} (prefix - to reverse)")
        order.append(col.desc() if key.startswith("-") else col.asc())
    return order


async def search(session: AsyncSession, params: dict[str, list[str]], org_id: str, *,
                 sort: str, count: int, offset: int) -> tuple[int, list]:
    """How many of the org's tasks match, and the page of them in the sort order."""
    q = search_query(params, org_id)
    order = sort_order(sort)
    total = (await session.execute(sa.select(sa.func.count()).select_from(q.subquery()))).scalar_one()
    rows = (await session.execute(q.order_by(*order, task.c.id).limit(count).offset(offset))).all()
    return total, rows
