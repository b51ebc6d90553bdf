"""The admin screens (practice managers and org admins): people with their roles and
skills, routing rules, and the audit trail."""
from __future__ import annotations

import json
from datetime import UTC, datetime, time
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from common.vocabulary import TASK_TYPES
from services.gateway import domain
from services.gateway.admin.routing_rules import current_rules, replace_rules
from services.gateway.audit.service import audit_search
from services.gateway.deps import Session
from services.gateway.directory import service as directory
from services.gateway.directory import store as directory_store
from services.gateway.directory.models import UserIn, UserPatch
from services.gateway.errors import GatewayError
from services.gateway.web.refusals import status, why
from services.gateway.web.session import ManagerPage, PageError, render

router = APIRouter(prefix="/admin")
Text = Annotated[str, Form()]

OPS_WORDS = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "eq": "is", "in": "is one of",
             "has": "includes any of"}


def describe_when(when) -> str:
    """Conditions in words: 'task type is one of Denial, Follow-up · amount > 5000'."""
    if not when:
        return "every task"
    parts = []
    for alt in (when if isinstance(when, list) else [when]):
        words = []
        for key, value in alt.items():
            fact, _, op = key.rpartition("_")
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            words.append(f"{fact.replace('_', ' ')} {OPS_WORDS.get(op, op)} {shown}")
        parts.append(" and ".join(words))
    return " — or — ".join(parts)


def describe_target(t: dict) -> str:
    bits = []
    for key in ("user", "user_from", "role", "team", "skills", "queue"):
        if key in t:
            v = t[key]
            bits.append(f"{key.replace('_', ' ')}: {', '.join(v) if isinstance(v, list) else v}")
    if "timeout_s" in t:
        bits.append(f"then next after {t['timeout_s']} s")
    return " · ".join(bits)


router_globals = {"describe_when": describe_when, "describe_target": describe_target}


@router.get("")
async def admin_home(user: ManagerPage):
    return RedirectResponse("/admin/users", status_code=303)


# ---------- people ----------

@router.get("/users")
async def users(request: Request, user: ManagerPage, s: Session):
    rows = await directory_store.users_of(s, user.org_id)
    return render(request, "admin/users.html", title="People", people=rows,
                  roles=domain.ROLES, skills=sorted(await directory_store.org_skills(s, user.org_id)))


@router.post("/users")
async def add_person(request: Request, user: ManagerPage, s: Session, name: Text = "",
                     email: Text = "", password: Text = ""):
    """Add a person (the same rules and the same one answer for a taken address as the API)."""
    form = await request.form()
    code, added = 200, None
    try:
        body = UserIn(name=name.strip(), email=email.strip(), password=password,
                          roles=form.getlist("roles"), skills=[])
        added = await directory.add_person(request.app.state.ctx, user, body)
        flash = ("ok", f"Added {added.name}: they can sign in now.")
    except (ValidationError, GatewayError) as exc:
        flash, code = ("error", f"Not added: {why(exc)}"), status(exc)
    rows = await directory_store.users_of(s, user.org_id)
    return render(request, "admin/users.html", status_code=code, title="People", people=rows,
                  roles=domain.ROLES, skills=sorted(await directory_store.org_skills(s, user.org_id)),
                  add_flash=flash, new={} if added else {"name": name[:120], "email": email[:254]})


@router.post("/users/{user_id}")
async def change_user(user_id: str, request: Request, user: ManagerPage, s: Session):
    form = await request.form()
    skills = [x.strip() for x in str(form.get("skills", "")).replace(";", ",").split(",") if x.strip()]
    try:
        body = UserPatch(roles=form.getlist("roles") or [], skills=skills,
                             capacity=form.get("capacity") or None, away=form.get("away") == "on",
                             active=form.get("active") == "on",
                             phone=str(form.get("phone") or "").replace(" ", "") or None)
        person = await directory.change_user(request.app.state.ctx, user, user_id, body)
        flash, code = ("ok", f"Saved {person.name}."), 200
    except (ValidationError, GatewayError) as exc:
        flash, code = ("error", f"Not saved: {why(exc)}"), status(exc)
    row = await directory_store.user_by_id(s, user.org_id, user_id)
    if row is None:
        raise PageError(404, "No such person in your org.")
    return render(request, "admin/user_row.html", status_code=code, p=row, roles=domain.ROLES,
                  flash=flash)


# ---------- routing rules ----------

@router.get("/routing")
async def routing(request: Request, user: ManagerPage, s: Session):
    rules = await current_rules(s, user)
    return render(request, "admin/routing.html", title="Routing rules", rules=rules,
                  **router_globals)


@router.get("/routing/{rule_id}")
async def routing_rule(rule_id: str, request: Request, user: ManagerPage, s: Session):
    rules = await current_rules(s, user)
    rule = next((r for r in rules.rules if r.get("id") == rule_id), None)
    if rule is None and rule_id != "new":
        raise PageError(404, f"There is no rule '{rule_id}'.")
    return render(request, "admin/rule_form.html", title="Edit routing rule", rules=rules,
                  rule=rule or {"id": "", "name": "", "when": {}, "targets": [{}]},
                  new=rule is None, position=_position(rules.rules, rule_id),
                  when_text=json.dumps((rule or {}).get("when", {}), indent=2),
                  targets_text=json.dumps((rule or {}).get("targets", [{"role": "biller"}]), indent=2))


def _position(rules: list[dict], rule_id: str) -> int:
    for i, r in enumerate(rules, 1):
        if r.get("id") == rule_id:
            return i
    return len(rules) + 1


@router.post("/routing/{rule_id}")
async def save_rule(rule_id: str, request: Request, user: ManagerPage, s: Session,
                    id: Text = "", name: Text = "", when: Text = "{}", targets: Text = "[]",
                    position: Text = "", version: Text = "", delete: Text = ""):
    current = await current_rules(s, user)
    rules = [r for r in current.rules if r.get("id") != rule_id]
    rule = {}
    try:
        if str(current.version) != version:
            raise ValueError(f"the rules changed since you opened them (now version "
                             f"{current.version}); open the rule again")
        if not delete:
            rule = {"id": id.strip(), "name": name.strip(),
                    "when": _json_field("Conditions", when), "targets": _json_field("Targets", targets)}
            at = max(1, min(int(position or len(rules) + 1), len(rules) + 1))
            rules.insert(at - 1, rule)
        saved = await replace_rules(request.app.state.ctx, user, rules)
    except (ValueError, GatewayError) as exc:
        message = why(exc)
        return render(request, "admin/rule_form.html", status_code=422, title="Edit routing rule",
                      rules=current, rule=rule or {"id": id, "name": name}, new=rule_id == "new",
                      position=position, when_text=when, targets_text=targets,
                      error=f"Not saved: {message}")
    done = "deleted" if delete else "saved"
    return render(request, "admin/routing.html", title="Routing rules", rules=saved,
                  flash=("ok", f"Rule '{rule_id if delete else rule['id']}' {done}: "
                               f"version {saved.version} routes from now on."), **router_globals)


def _json_field(label: str, text: str):
    try:
        return json.loads(text or "null")
    except json.JSONDecodeError as exc:
        raise ValueError(f"{label} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                         f"{exc.msg})") from None


# ---------- audit trail ----------

AUDIT_FIELDS = ("patient_id", "payer_id", "task_type", "actor_id", "since", "until")


@router.get("/audit")
async def audit(request: Request, user: ManagerPage, s: Session):
    q = {k: v.strip() for k, v in request.query_params.items() if k in AUDIT_FIELDS and v.strip()}
    error, rows = None, []
    try:
        since = datetime.combine(datetime.fromisoformat(q["since"]).date(), time(), UTC) \
            if "since" in q else None
        until = datetime.combine(datetime.fromisoformat(q["until"]).date(), time.max, UTC) \
            if "until" in q else None
        if since and until and since > until:
            raise ValueError("the 'from' date is after the 'to' date")
        rows = await audit_search(
            s, user, limit=200, since=since, until=until,
            **{k: v for k, v in q.items() if k not in ("since", "until")})
    except ValueError as exc:
        error = f"Dates: {exc}" if "date" not in str(exc) else str(exc)
    names = await directory.names(s, user.org_id)
    csv_query = urlencode({**{k: v for k, v in q.items() if k not in ("since", "until")},
                           **({"since": f"{q['since']}T00:00:00+00:00"} if "since" in q else {}),
                           **({"until": f"{q['until']}T23:59:59+00:00"} if "until" in q else {}),
                           "format": "csv", "limit": 10000})
    return render(request, "admin/audit.html", title="Audit trail", rows=rows, q=q, error=error,
                  names=names, people=await directory_store.users_of(s, user.org_id),
                  task_types=sorted(TASK_TYPES),
                  csv_url=f"/api/v1/audit?{csv_query}")
