"""The SLA admin screen: each policy as a form (deadline, business calendar, pause, due-soon
and warning thresholds, level 2), maintenance windows, and the monitor's own validation
(``common.sla_policy.check``) explaining every refusal. Saving sends the whole document
through the same function as ``PUT /api/v1/sla/policies``."""
from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import APIRouter, Request
from starlette.datastructures import FormData

from common.sla_policy import DEFAULT_DEADLINE_HOURS, MaintenanceWindow, SlaPolicy, SlaPolicyError
from common.vocabulary import TASK_TYPES
from services.gateway import domain
from services.gateway.admin import sla as sla_api
from services.gateway.deps import Session
from services.gateway.errors import Invalid
from services.gateway.web.session import ManagerPage, PageError, render

router = APIRouter(prefix="/admin/sla")
# What a save can be refused for: the form's own reading of a field, or the monitor's rules.
NOT_SAVED = (SlaPolicyError, Invalid)
TIMEZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
             "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "UTC")


def _hours(h: float | None) -> str:
    if h is None:
        return "—"
    if h >= 48 and h % 24 == 0:
        return f"{int(h // 24)} days"
    return f"{h:g} h"


def describe_policy(p: SlaPolicy) -> dict:
    """A policy in words, for the list: what it applies to and what it promises."""
    scope = [p.task_type if p.task_type != "*" else "every task type"]
    if p.payer_id:
        scope.append(f"payer {p.payer_id}")
    if p.priority:
        scope.append(f"{p.priority} priority")
    cal = p.calendar
    if cal.start is not None:
        clock = (f"{_hours(p.deadline_hours)} of business hours "
                 f"({cal.start:%H:%M}–{cal.end:%H:%M} {cal.timezone}"
                 f"{', weekdays' if cal.exclude_weekends else ''}"
                 f"{f', {len(cal.holidays)} holidays' if cal.holidays else ''})")
    else:
        clock = (f"{_hours(p.deadline_hours)}, around the clock"
                 f"{' on weekdays' if cal.exclude_weekends else ''}"
                 f"{f', {len(cal.holidays)} holidays off' if cal.holidays else ''}")
    then = [f"due soon {_hours(p.due_soon_hours)} before"]
    if p.warn_before_hours:
        then.append(f"warns the owner {_hours(p.warn_before_hours)} before")
    then.append("clock stops while on hold" if p.pause_on_hold else "clock runs while on hold")
    then.append(f"level 2 (org admin) {_hours(p.level2_after_hours)} after the breach"
                if p.level2_after_hours else "no level 2")
    return {"scope": " · ".join(scope), "clock": clock, "then": " · ".join(then)}


def _parsed(doc: sla_api.SlaOut) -> tuple[list[SlaPolicy], list[MaintenanceWindow]]:
    return ([SlaPolicy.model_validate(p) for p in doc.policies],
            [MaintenanceWindow.model_validate(w) for w in doc.maintenance_windows])


def _page(request: Request, doc: sla_api.SlaOut, status_code: int = 200, **extra):
    policies, windows = _parsed(doc)
    return render(request, "admin/sla.html", status_code=status_code, title="SLA policies",
                  doc=doc, policies=[(p, describe_policy(p)) for p in policies], windows=windows,
                  default_days=int(DEFAULT_DEADLINE_HOURS // 24), now_utc=datetime.now(UTC), **extra)


@router.get("")
async def sla_home(request: Request, user: ManagerPage, s: Session):
    return _page(request, await sla_api.current(s, user.org_id))


def _form(request: Request, doc: sla_api.SlaOut, policy: dict, new: bool, status_code=200, error=None):
    return render(request, "admin/sla_form.html", status_code=status_code, title="Edit SLA policy",
                  doc=doc, p=policy, new=new, error=error, timezones=TIMEZONES,
                  priorities=domain.PRIORITIES, task_types=sorted(TASK_TYPES))


def _as_form(p: SlaPolicy) -> dict:
    """A stored policy as the form's field values."""
    days = p.deadline_hours / 24
    whole_days = p.calendar.start is None and days == int(days)
    return {"id": p.id, "task_type": p.task_type, "payer_id": p.payer_id or "",
            "priority": p.priority or "",
            "deadline": f"{int(days) if whole_days else p.deadline_hours:g}",
            "deadline_unit": "days" if whole_days else "hours",
            "timezone": p.calendar.timezone,
            "start": f"{p.calendar.start:%H:%M}" if p.calendar.start else "",
            "end": f"{p.calendar.end:%H:%M}" if p.calendar.end else "",
            "exclude_weekends": p.calendar.exclude_weekends,
            "holidays": ", ".join(d.isoformat() for d in p.calendar.holidays),
            "pause_on_hold": p.pause_on_hold, "due_soon_hours": f"{p.due_soon_hours:g}",
            "warn_before_hours": f"{p.warn_before_hours:g}" if p.warn_before_hours else "",
            "level2_after_hours": f"{p.level2_after_hours:g}" if p.level2_after_hours else ""}


def _number(label: str, text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise SlaPolicyError(f"{label}: '{text}' is not a number") from None


def _from_form(form: FormData) -> tuple[dict, dict]:
    """The form as (its field values, for redisplay) and (the policy, for check())."""
    f = {k: str(form.get(k, "")).strip() for k in (
        "id", "task_type", "payer_id", "priority", "deadline", "deadline_unit", "timezone", "start",
        "end", "holidays", "due_soon_hours", "warn_before_hours", "level2_after_hours")}
    f["exclude_weekends"] = form.get("exclude_weekends") == "on"
    f["pause_on_hold"] = form.get("pause_on_hold") == "on"
    deadline = _number("Deadline", f["deadline"])
    if deadline is None:
        raise SlaPolicyError("Deadline: say how long, e.g. 30 days or 16 hours")
    holidays = []
    for d in f["holidays"].replace(";", ",").split(","):
        if d.strip():
            try:
                holidays.append(date.fromisoformat(d.strip()).isoformat())
            except ValueError:
                raise SlaPolicyError(f"Holidays: '{d.strip()}' is not a date (use 2026-12-25)") from None
    calendar = {"timezone": f["timezone"] or "UTC", "exclude_weekends": f["exclude_weekends"],
                "holidays": holidays}
    if f["start"] or f["end"]:
        calendar |= {"start": f["start"] or None, "end": f["end"] or None}
    policy = {"id": f["id"], "task_type": f["task_type"] or "*",
              "deadline_hours": deadline * (24 if f["deadline_unit"] == "days" else 1),
              "calendar": calendar, "pause_on_hold": f["pause_on_hold"],
              "due_soon_hours": _number("Due soon", f["due_soon_hours"]) or 0,
              "warn_before_hours": _number("Warn before", f["warn_before_hours"]),
              "level2_after_hours": _number("Level 2 after", f["level2_after_hours"])}
    if f["payer_id"]:
        policy["payer_id"] = f["payer_id"]
    if f["priority"]:
        policy["priority"] = f["priority"]
    return f, policy


def _stale(doc: sla_api.SlaOut, version: str) -> None:
    if str(doc.version) != version:
        raise SlaPolicyError(f"the policies changed since you opened them (now version {doc.version}); "
                             "open them again")


@router.get("/policies/{policy_id}")
async def policy_form(policy_id: str, request: Request, user: ManagerPage, s: Session):
    doc = await sla_api.current(s, user.org_id)
    found = next((p for p in _parsed(doc)[0] if p.id == policy_id), None)
    if found is None and policy_id != "new":
        raise PageError(404, f"There is no SLA policy '{policy_id}'.")
    return _form(request, doc, _as_form(found or SlaPolicy(id="new-policy")), new=found is None)


@router.post("/policies/{policy_id}")
async def save_policy(policy_id: str, request: Request, user: ManagerPage, s: Session):
    doc = await sla_api.current(s, user.org_id)
    form = await request.form()
    delete = bool(form.get("delete"))
    fields = {}
    try:
        _stale(doc, str(form.get("version", "")))
        policies = [p for p in doc.policies if p.get("id") != policy_id]
        if not delete:
            fields, policy = _from_form(form)
            at = next((i for i, p in enumerate(doc.policies) if p.get("id") == policy_id), len(policies))
            policies.insert(at, policy)
        saved = await sla_api.replace(request.app.state.ctx, user, {
            "policies": policies, "maintenance_windows": doc.maintenance_windows})
    except NOT_SAVED as exc:
        if delete:
            return _page(request, doc, 422, flash=("error", f"Not deleted: {exc}"))
        return _form(request, doc, fields or {"id": policy_id}, new=policy_id == "new",
                     status_code=422, error=f"Not saved: {exc}")
    what = f"Policy '{policy_id}' deleted" if delete else f"Policy '{fields['id']}' saved"
    return _page(request, saved, flash=("ok", f"{what}: version {saved.version} applies from now on."))


@router.post("/windows")
async def add_window(request: Request, user: ManagerPage, s: Session):
    doc = await sla_api.current(s, user.org_id)
    form = await request.form()
    f = {k: str(form.get(k, "")).strip() for k in ("id", "starts_at", "ends_at", "payer_id")}
    try:
        _stale(doc, str(form.get("version", "")))
        window = {"id": f["id"], "starts_at": _utc(f["starts_at"], "Starts"),
                  "ends_at": _utc(f["ends_at"], "Ends")}
        if f["payer_id"]:
            window["payer_id"] = f["payer_id"]
        saved = await sla_api.replace(request.app.state.ctx, user, {
            "policies": doc.policies, "maintenance_windows": [*doc.maintenance_windows, window]})
    except NOT_SAVED as exc:
        return _page(request, doc, 422, window_form=f, flash=("error", f"Window not added: {exc}"))
    return _page(request, saved, flash=("ok", f"Maintenance window '{f['id']}' added: alerts "
                                              f"in it are held back (escalations are still recorded)."))


@router.post("/windows/{window_id}/delete")
async def delete_window(window_id: str, request: Request, user: ManagerPage, s: Session):
    doc = await sla_api.current(s, user.org_id)
    form = await request.form()
    try:
        _stale(doc, str(form.get("version", "")))
        saved = await sla_api.replace(request.app.state.ctx, user, {
            "policies": doc.policies,
            "maintenance_windows": [w for w in doc.maintenance_windows if w.get("id") != window_id]})
    except NOT_SAVED as exc:
        return _page(request, doc, 422, flash=("error", f"Not deleted: {exc}"))
    return _page(request, saved, flash=("ok", f"Maintenance window '{window_id}' deleted."))


def _utc(text: str, label: str) -> str:
    """A datetime-local field (entered in UTC, as the form says) as an ISO time with offset."""
    if not text:
        raise SlaPolicyError(f"{label}: choose a date and time")
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise SlaPolicyError(f"{label}: '{text}' is not a date and time") from None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()
