"""The gateway's REST API: sign-in, the queue and saved views, the task record and what
staff do to it, users, and the audit trail. Everything is scoped to the caller's org."""
from __future__ import annotations

import base64
import csv
import io
import json
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from common import limits
from services.gateway import actions, auth, domain, store, suggestions
from services.gateway.auth import CurrentUser, Manager
from services.gateway.signin_limits import SignInLimiter, TooManyAttempts

# ---------- models ----------

Id = limits.text(200)  # a user, patient, payer, view or queue id, a task type, a skill

class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    task_type: str
    status: str
    business_status: str | None
    priority: str
    title: str
    description: str | None
    due_at: datetime
    sla_status: str | None = None
    column: str = ""
    patient_id: str | None
    patient_name: str | None
    payer_id: str | None
    payer_name: str | None
    payer_class: str | None
    amount: Decimal | None
    reason_codes: list[str]
    source_kind: str
    source_id: str
    source_module: str
    queue: str | None
    owner_id: str | None
    routing_reason: str | None
    part_of: uuid.UUID | None
    version: int
    escalation_level: int = 0  # SLA escalation level (0: none, 1: practice manager, 2: org admin)
    sla_paused_at: datetime | None = None  # the SLA clock is stopped (on hold) since
    sla_due_in_s: int | None = None  # the SLA countdown: seconds to the deadline (negative: overdue)
    created_at: datetime
    stored_at: datetime
    updated_at: datetime
    # nba's next step (None when nba has none, is down or slow): see suggestions.py
    suggestion: suggestions.SuggestionOut | None = None


def task_out(row, now: datetime) -> TaskOut:
    t = TaskOut.model_validate(row)
    t.sla_status = domain.sla_status(t.due_at, now, t.status)
    t.column = domain.column_of(t.status, t.business_status)
    t.sla_due_in_s = int((t.due_at - (t.sla_paused_at or now)).total_seconds()) if t.sla_status else None
    return t


class HistoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    detail: dict


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    author_id: str
    at: datetime
    text: str


class TimeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    user_id: str
    minutes: int
    action: str
    performed_on: date
    at: datetime
    note: str | None


class TaskDetail(TaskOut):
    details: dict
    cpt_codes: list[str]
    icd_codes: list[str]
    allowed_next: list[str]
    history: list[HistoryOut]
    notes: list[NoteOut]
    time_entries: list[TimeOut]
    total_minutes: int
    subtasks: list[TaskOut]


class QueueFilter(BaseModel):
    """What to show. Every field is optional; a saved view is a stored QueueFilter."""
    model_config = ConfigDict(extra="forbid")

    view: Id | None = Field(None, description="a saved view's name or id; other fields refine it")
    task_type: list[Id] = Field([], max_length=20)
    priority: list[Literal["Urgent", "High", "Routine", "Low"]] = []
    status: list[Literal[domain.STATUSES]] = Field([], description="default: every active status")  # type: ignore[valid-type]
    sla: Literal["overdue", "due-soon", "on-track"] | None = None
    owner: Id | None = Field(None, description="'me', 'unassigned' or a user id")
    role: Literal[tuple(domain.ROLE_TASK_TYPES)] | None = None  # type: ignore[valid-type]
    patient_id: Id | None = None
    payer_id: Id | None = None
    source_module: Id | None = None
    queue: Id | None = None
    skills: list[Id] = Field([], max_length=50,
                             description="task types or payer classes; 'mine' for yours")
    q: limits.text(100) | None = Field(None, description="text in title, patient or source id")
    sort: Literal["due", "priority", "newest", "updated"] = "due"


class QueueParams(QueueFilter):
    limit: int = Field(50, ge=1, le=200)
    cursor: limits.text(1000) | None = Field(None, description="next_cursor of the previous page")


class QueuePage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None
    view: str | None = None


class ColumnCounts(BaseModel):
    columns: dict[str, int]


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal[domain.STATUSES]  # type: ignore[valid-type]
    business_status: limits.text(80) | None = None
    reason: limits.text(500) | None = None


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner_id: Id | None = Field(..., description="a user of your org, or null to unassign")
    reason: limits.text(500) | None = None


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: limits.text(10_000, min_length=1)


class TimeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minutes: int = Field(ge=1, le=600)
    action: limits.text(120, min_length=1)
    performed_on: limits.Date | None = None
    note: limits.text(2_000) | None = None


class SubtaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: limits.text(200, min_length=1)
    task_type: Id | None = None
    priority: Literal["Urgent", "High", "Routine", "Low"] | None = None
    due_at: limits.Timestamp | None = None
    owner_id: Id | None = None


class Created(BaseModel):
    id: uuid.UUID
    version: int | None = None


NO_NUL = r"^[^\x00]*$"


def _email(value: str) -> str:
    """A well-formed address, lower-cased. Deliverability is not looked up, and the
    reserved ``.test`` domain is accepted (every demo and test account uses one); other
    special-use domains (.invalid, .localhost, .local, ...) are refused."""
    try:
        return validate_email(value, check_deliverability=False,
                              test_environment=True).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


Email = Annotated[str, Field(min_length=3, max_length=254, pattern=NO_NUL),
                  AfterValidator(_email)]
Tag = Annotated[str, Field(min_length=1, max_length=60, pattern=NO_NUL)]


class Login(BaseModel):
    email: str = Field(min_length=3, max_length=200, pattern=NO_NUL)
    password: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    org: limits.text(200, min_length=1) | None = Field(None, description=(
        "the org to sign in to; without it, the oldest of the address's accounts (up to "
        "three) that the password opens"))


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    org_id: str
    email: str
    name: str
    roles: list[str]
    skills: list[str]
    active: bool = True
    capacity: int = 40
    away: bool = False
    phone: str | None = None


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[Literal[domain.ROLES]] | None = Field(None, min_length=1)  # type: ignore[valid-type]
    skills: list[Tag] | None = Field(None, max_length=50)
    capacity: int | None = Field(None, ge=0, le=500)
    away: bool | None = None
    active: bool | None = None
    phone: str | None = Field(None, pattern=r"^\+[1-9][0-9]{6,14}$",
                              description="E.164, for SLA alerts by SMS")


class RulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[dict] = Field(max_length=100, description=(
        'in priority order: {"id", "name", "when": {"amount_gt": 5000}, '
        '"targets": [{"skills": ["SeniorBiller"]}, {"role": "biller"}]}'))


class RulesOut(BaseModel):
    version: int
    rules: list[dict]
    defaults: bool


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserOut


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email
    name: str = Field(min_length=1, max_length=120, pattern=NO_NUL)
    password: str = Field(min_length=10, max_length=200, pattern=NO_NUL)
    roles: list[Literal[domain.ROLES]] = Field(min_length=1)  # type: ignore[valid-type]
    skills: list[Tag] = Field([], max_length=50)


class ViewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: limits.text(60, min_length=1)
    shared: bool = Field(False, description="visible to the whole org (managers only)")
    filters: QueueFilter


class ViewOut(BaseModel):
    id: str
    name: str
    shared: bool
    builtin: bool
    filters: QueueFilter


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    at: datetime
    actor_id: str
    action: str
    task_id: uuid.UUID | None
    patient_id: str | None
    payer_id: str | None
    task_type: str | None
    detail: dict


BUILTIN_VIEWS: dict[str, dict] = {
    "My Tasks": {"owner": "me"},
    "Denial Queue": {"task_type": ["Denial"]},
    "Overdue": {"sla": "overdue"},
    "Co-sign Requests": {"task_type": ["Co-sign"]},
    "My Specialties": {"skills": ["mine"]},
}


# ---------- helpers ----------

def ctx(request: Request):
    return request.app.state.ctx


async def session(request: Request):
    async with ctx(request).sessions() as s:
        yield s


Session = Annotated[object, Depends(session)]


def encode_cursor(values: list) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else str(v) for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, sort: str) -> tuple:
    cols, _ = store.SORTS[sort]
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        out = []
        for name, v in zip([*cols, "id"], raw, strict=True):
            out.append(uuid.UUID(v) if name == "id" else
                       int(v) if name == "priority_rank" else datetime.fromisoformat(v))
        return tuple(out)
    except Exception:
        raise HTTPException(422, "cursor: not a cursor this API returned for this sort") from None


def if_match(value: str | None) -> int | None:
    if value is None:
        return None
    v = domain.version_from_etag(value)
    if v is None:
        raise HTTPException(422, 'If-Match: expected an ETag such as W/"3"')
    return v


IfMatch = Annotated[str | None, Header(
    alias="If-Match", description="the ETag you loaded; required to change status or owner")]


def require_if_match(value: str | None) -> int:
    if value is None:
        raise HTTPException(428, 'If-Match is required: send the ETag of the task you loaded '
                                 '(so two people never overwrite each other)')
    return if_match(value)


@contextmanager
def refusals():
    """Turn the task rules' refusals into clear HTTP answers."""
    try:
        yield
    except actions.NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except actions.StaleVersion as exc:
        raise HTTPException(412, str(exc), headers={"ETag": domain.etag(exc.current)}) from None
    except domain.TransitionRefused as exc:
        raise HTTPException(409, {"message": str(exc), "current": exc.current,
                                  "allowed": exc.allowed}) from None
    except (actions.Invalid, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None


async def check_owner(s, user: auth.User, f: QueueFilter, field: str = "owner") -> None:
    """An owner filter names 'me', 'unassigned' or a user of the signed-in org: 422 else."""
    if f.owner not in (None, "me", "unassigned") and \
            await store.user_by_id(s, user.org_id, f.owner) is None:
        raise HTTPException(422, f"{field}: no user '{f.owner}' in your org")


async def resolve_view(s, user: auth.User, f: QueueFilter) -> QueueFilter:
    """Merge a saved view's filters under the explicit ones."""
    if not f.view:
        merged = f
    else:
        stored = None
        if f.view in BUILTIN_VIEWS:
            stored = BUILTIN_VIEWS[f.view]
        else:
            for v in await store.views_of(s, user.org_id, user.id):
                if f.view in (v.name, str(v.id)):
                    stored = v.filters
        if stored is None:
            raise HTTPException(404, f"view '{f.view}' not found")
        explicit = f.model_dump(exclude_unset=True, exclude={"view"})
        merged = QueueFilter.model_validate({**stored, **explicit, "view": f.view})
    if "mine" in merged.skills:
        merged = merged.model_copy(update={"skills": [*(x for x in merged.skills if x != "mine"),
                                                      *user.skills] or ["(none)"]})
    return merged


async def queue_page(s, user: auth.User, p: QueueParams) -> QueuePage:
    """One page of the queue for a user: their view and filters, keyset-paged."""
    limit, cursor = p.limit, p.cursor
    f = await resolve_view(s, user, QueueFilter.model_validate(
        p.model_dump(exclude={"limit", "cursor"}, exclude_unset=True)))
    await check_owner(s, user, f)
    now = datetime.now(UTC)
    after = decode_cursor(cursor, f.sort) if cursor else None
    rows = (await s.execute(store.queue_query(f, org_id=user.org_id, user_id=user.id,
                                              now=now, after=after, limit=limit + 1))).all()
    items = [task_out(row, now) for row in rows[:limit]]
    nxt = None
    if len(rows) > limit:
        cols, _ = store.SORTS[f.sort]
        last = rows[limit - 1]
        nxt = encode_cursor([getattr(last, c) for c in cols] + [last.id])
    if f.patient_id:
        await store.audit(s, org_id=user.org_id, actor_id=user.id, action="read",
                          detail={"patient_id": f.patient_id, "what": "queue"})
        await s.commit()
    await suggestions.attach(user.org_id, items)
    return QueuePage(items=items, next_cursor=nxt, view=f.view)


async def column_counts(s, user: auth.User, f: QueueFilter) -> dict[str, int]:
    """Tasks per board column matching a (resolved) filter, every status counted."""
    if not f.status:
        f = f.model_copy(update={"status": list(domain.STATUSES)})
    rows = (await s.execute(store.column_counts(f, org_id=user.org_id, user_id=user.id,
                                                now=datetime.now(UTC)))).all()
    out = dict.fromkeys(domain.COLUMNS, 0)
    for status, business_status, n in rows:
        out[domain.column_of(status, business_status)] += n
    return out


async def task_detail(s, user: auth.User, task_id: uuid.UUID) -> TaskDetail:
    """A task of the user's org with everything on it; the read is audited. 404 if none."""
    row = await store.get_task(s, user.org_id, task_id)
    if row is None:
        raise HTTPException(404, f"task {task_id} not found")
    now = datetime.now(UTC)
    history = await store.history_of(s, user.org_id, task_id)
    notes = await store.notes_of(s, user.org_id, task_id)
    times = await store.time_of(s, user.org_id, task_id)
    subs = await store.subtasks_of(s, user.org_id, task_id)
    await store.audit(s, org_id=user.org_id, actor_id=user.id, action="read", task_row=row)
    await s.commit()
    out = task_out(row, now)
    await suggestions.attach(user.org_id, [out])
    base = out.model_dump()
    return TaskDetail(
        **base, details=row.details, cpt_codes=row.cpt_codes, icd_codes=row.icd_codes,
        allowed_next=domain.allowed_next(row.status),
        history=[HistoryOut.model_validate(h) for h in history],
        notes=[NoteOut.model_validate(n) for n in notes],
        time_entries=[TimeOut.model_validate(t) for t in times],
        total_minutes=sum(t.minutes for t in times),
        subtasks=[task_out(x, now) for x in subs])


async def tasks_by_id(s, user: auth.User, ids: list[uuid.UUID]) -> list[TaskOut]:
    """Several tasks of the user's org by id, with nba's suggestions."""
    now = datetime.now(UTC)
    items = [task_out(row, now) for row in (await s.execute(store.tasks_by_id(user.org_id, ids))).all()]
    return await suggestions.attach(user.org_id, items)


async def decide_suggestion(c, user: auth.User, task_id: uuid.UUID,
                            body: suggestions.DecisionIn) -> suggestions.DecisionOut:
    """Accept, modify or dismiss nba's suggestion for a task: checked against nba's log
    (404 unknown, 409 decided before, 503 nba away), audited, announced as SuggestionDecided."""
    try:
        async with actions.unit_of_work(c) as uow:
            row = await store.get_task(uow.session, user.org_id, task_id, for_update=True)
            if row is None:
                raise HTTPException(404, f"task {task_id} not found")
            # The task stays locked while nba is asked: two decisions on it queue up.
            logged = await suggestions.NBA.logged(user.org_id, body.suggestion_id)
            if logged is None:
                raise HTTPException(404, f"no suggestion {body.suggestion_id} for task {task_id}")
            return await suggestions.decide(uow, user, row, body, logged)
    except suggestions.Refused as exc:
        raise HTTPException(exc.status, str(exc)) from None
    except suggestions.Unavailable as exc:
        raise HTTPException(503, str(exc)) from None


SIGN_IN_REFUSED = "wrong e-mail or password"
# Without an org, sign-in tries the password on this many of the address's accounts (the
# oldest); a person with more accounts than that names the org.
ACCOUNTS_CHECKED = 3


def client_address(request: Request) -> str:
    """The address sign-in attempts are counted against (uvicorn resolves a trusted
    proxy's X-Forwarded-For into it)."""
    return request.client.host if request.client else "unknown"


async def authenticate(s, settings, body: Login, *, limiter: SignInLimiter, address: str) -> Token:
    """Check an e-mail and password; a signed session token, or 401 (one answer, and about
    the same time, for an unknown e-mail, a wrong password, and an address other orgs use
    too). TooManyAttempts past the per-account or per-address limit of failures."""
    await limiter.check(body.email, address)
    # Always the same number of hash checks, padded with the dummy hash: one for a named
    # org, else ACCOUNTS_CHECKED, so the time says nothing of how many orgs use the address.
    n = 1 if body.org else ACCOUNTS_CHECKED
    rows = await store.accounts_by_email(s, body.email, org_id=body.org, limit=n)
    matches = [auth.verify_password(rows[i].password_hash if i < len(rows) else None, body.password)
               for i in range(n)]
    if not any(matches):
        await limiter.failed(body.email, address)
        raise HTTPException(401, SIGN_IN_REFUSED, headers={"WWW-Authenticate": "Bearer"})
    row = rows[matches.index(True)]  # the oldest account this password opens
    await limiter.succeeded(body.email)
    user = auth.User(row.id, row.org_id, row.name, row.email, tuple(row.roles), tuple(row.skills))
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    return Token(access_token=auth.issue_token(user, secret=settings.jwt_secret, ttl=ttl),
                 expires_in=int(ttl.total_seconds()), user=UserOut.model_validate(row))


async def views_for(s, user: auth.User) -> list[ViewOut]:
    """The views a user can pick: built-in, the org's shared ones, their own."""
    out = [ViewOut(id=name, name=name, shared=True, builtin=True,
                   filters=QueueFilter.model_validate(f)) for name, f in BUILTIN_VIEWS.items()]
    for v in await store.views_of(s, user.org_id, user.id):
        out.append(ViewOut(id=str(v.id), name=v.name, shared=v.owner_id is None,
                           builtin=False, filters=QueueFilter.model_validate(v.filters)))
    return out


async def store_view(s, user: auth.User, body: ViewIn) -> ViewOut:
    """Save a named view for the user (or, by a manager, for the org)."""
    if body.shared and not user.is_manager:
        raise HTTPException(403, "only a practice manager or org admin may share a view")
    if body.name in BUILTIN_VIEWS:
        raise HTTPException(409, f"'{body.name}' is a built-in view; choose another name")
    await check_owner(s, user, body.filters, "filters.owner")
    vid = uuid.uuid4()
    try:
        await s.execute(sa.insert(store.saved_view).values(
            id=vid, org_id=user.org_id, owner_id=None if body.shared else user.id,
            name=body.name, filters=body.filters.model_dump(exclude={"view"},
                                                             exclude_defaults=True)))
        await s.commit()
    except sa.exc.IntegrityError:
        raise HTTPException(409, f"you already have a view named '{body.name}'") from None
    return ViewOut(id=str(vid), name=body.name, shared=body.shared, builtin=False,
                   filters=body.filters)


# An e-mail is unique within an org. An address another org uses is no obstacle (nor
# told): this org gets its own account. Only the manager's own org is checked, active or
# not, and the answer names nothing the manager cannot see under People.
EMAIL_REFUSED = ("someone in your org already has this e-mail address (active or not): "
                 "see People")


async def add_person(c, manager: auth.User, body: UserIn) -> UserOut:
    """Add a person to the manager's org; announced and audited. 409 when the address is
    already one of the org's accounts."""
    from services.gateway.directory import announce_user

    uid = str(uuid.uuid4())
    try:
        async with actions.unit_of_work(c) as uow:
            if await store.email_taken(uow.session, manager.org_id, body.email):
                raise HTTPException(409, EMAIL_REFUSED)
            await store.insert_user(uow.session, id=uid, org_id=manager.org_id, email=body.email,
                                    name=body.name, roles=list(body.roles), skills=body.skills,
                                    password_hash=auth.hash_password(body.password), active=True)
            row = await store.user_by_id(uow.session, manager.org_id, uid)
            await announce_user(uow, row)
            await store.audit(uow.session, org_id=manager.org_id, actor_id=manager.id,
                              action="user_added", detail={"user_id": uid, "roles": list(body.roles)})
    except sa.exc.IntegrityError:  # the same address added to the org at the same moment
        raise HTTPException(409, EMAIL_REFUSED) from None
    return UserOut.model_validate(row)


async def change_user(c, manager: auth.User, user_id: str, body: UserPatch) -> UserOut:
    """Change a user's roles, skills, capacity, away or active; announced and audited."""
    from services.gateway.directory import announce_user

    changes = body.model_dump(exclude_unset=True)
    async with actions.unit_of_work(c) as uow:
        row = await store.user_by_id(uow.session, manager.org_id, user_id)
        if row is None:
            raise HTTPException(404, f"no user {user_id} in your org")
        if changes:
            await uow.session.execute(sa.update(store.app_user).where(
                store.app_user.c.id == user_id).values(**changes))
            row = await store.user_by_id(uow.session, manager.org_id, user_id)
            await announce_user(uow, row)
            await store.audit(uow.session, org_id=manager.org_id, actor_id=manager.id,
                              action="user_changed", detail={"user_id": user_id, **changes})
    return UserOut.model_validate(row)


async def current_rules(s, user: auth.User) -> RulesOut:
    """The org's routing rules in force (the defaults until it sets its own)."""
    from common.routing_rules import DEFAULT_RULES

    row = await store.latest_rules(s, user.org_id)
    if row is None:
        return RulesOut(version=0, rules=DEFAULT_RULES, defaults=True)
    return RulesOut(version=row.version, rules=row.rules, defaults=False)


async def replace_rules(c, manager: auth.User, rules: list[dict]) -> RulesOut:
    """Validate and store a new version of the org's rules; routing applies it at once."""
    from common.events.generated import RoutingRulesChanged
    from common.routing_rules import check_rules
    from common.rules import RuleError

    async with actions.unit_of_work(c) as uow:
        known = await store.org_skills(uow.session, manager.org_id)
        users = {u.id for u in await store.users_of(uow.session, manager.org_id)}
        try:
            check_rules(rules, known_skills=known, known_users=users)
        except RuleError as exc:
            raise HTTPException(422, str(exc)) from None
        version = await store.add_rules(uow.session, manager.org_id, rules, manager.id)
        await uow.emit(RoutingRulesChanged(version=version, rules_json=json.dumps(rules),
                                           changed_by=manager.id),
                       org_id=manager.org_id, key=manager.org_id)
        await store.audit(uow.session, org_id=manager.org_id, actor_id=manager.id,
                          action="routing_rules_changed", detail={"version": version})
    return RulesOut(version=version, rules=rules, defaults=False)


async def audit_search(s, user: auth.User, *, limit: int = 500, **filters) -> list[AuditOut]:
    """Audit rows of the user's org, newest first, by patient, payer, type, actor, dates."""
    rows = (await s.execute(store.audit_query(org_id=user.org_id, limit=limit, **filters))).all()
    return [AuditOut.model_validate(r) for r in rows]


# ---------- routes ----------

def router() -> APIRouter:
    """Gateway: the unified work queue, the task record and the FHIR Task API."""
    from services.gateway import fhir, sla_api, task_policy_api

    r = APIRouter(prefix="/api/v1")

    @r.post("/auth/token", response_model=Token, tags=["auth"], summary="Sign in",
            responses={401: {"description": "wrong e-mail or password"},
                       429: {"description": "too many failed sign-ins (Retry-After)"}})
    async def sign_in(body: Login, request: Request, response: Response, s: Session) -> Token:
        settings = ctx(request).settings
        try:
            token = await authenticate(s, settings, body, limiter=request.app.state.signin_limiter,
                                       address=client_address(request))
        except TooManyAttempts as exc:
            raise HTTPException(429, str(exc),
                                headers={"Retry-After": str(exc.retry_after_s)}) from None
        auth.set_session_cookie(response, token.access_token, max_age=token.expires_in,
                                secure=settings.secure_cookies)
        return token

    @r.get("/me", response_model=UserOut, tags=["auth"], summary="Who is signed in")
    async def me(user: CurrentUser, s: Session) -> UserOut:
        row = await store.user_by_id(s, user.org_id, user.id)
        if row is None:
            raise HTTPException(401, "this account no longer exists")
        return UserOut.model_validate(row)

    @r.get("/queue", response_model=QueuePage, tags=["queue"],
           summary="The queue: filter, sort, page (keyset); a view fills in filters")
    async def queue(user: CurrentUser, s: Session,
                    p: Annotated[QueueParams, Query()]) -> QueuePage:
        return await queue_page(s, user, p)

    @r.get("/queue/counts", response_model=ColumnCounts, tags=["queue"],
           summary="Tasks per board column for the same filters (count badges)")
    async def counts(user: CurrentUser, s: Session, f: Annotated[QueueFilter, Query()]) -> ColumnCounts:
        f = await resolve_view(s, user, f)
        await check_owner(s, user, f)
        return ColumnCounts(columns=await column_counts(s, user, f))

    @r.get("/tasks", response_model=list[TaskOut], tags=["tasks"],
           summary="Several tasks by id (those of your org)")
    async def get_tasks(user: CurrentUser, s: Session,
                        id: Annotated[list[uuid.UUID], Query(max_length=200)]) -> list[TaskOut]:
        return await tasks_by_id(s, user, id)

    @r.get("/tasks/{task_id}", response_model=TaskDetail, tags=["tasks"],
           summary="One task with history, notes, time and sub-tasks; ETag for edits")
    async def get_task(task_id: uuid.UUID, user: CurrentUser, s: Session,
                       response: Response) -> TaskDetail:
        detail = await task_detail(s, user, task_id)
        response.headers["ETag"] = domain.etag(detail.version)
        return detail

    @r.post("/tasks/{task_id}/status", response_model=Created, tags=["tasks"],
            summary="Change status (FHIR state machine); 409 lists the allowed next states",
            responses={409: {"description": "transition refused"}, 412: {"description": "stale"},
                       428: {"description": "If-Match missing"}})
    async def change_status(task_id: uuid.UUID, body: StatusChange, user: CurrentUser,
                            request: Request, response: Response,
                            match: IfMatch = None) -> Created:
        expected = require_if_match(match)
        with refusals():
            async with actions.unit_of_work(ctx(request)) as uow:
                v = await actions.change_status(uow, user, task_id, status=body.status,
                                                business_status=body.business_status,
                                                reason=body.reason, expected_version=expected)
        response.headers["ETag"] = domain.etag(v)
        return Created(id=task_id, version=v)

    @r.post("/tasks/{task_id}/suggestion/decision", response_model=suggestions.DecisionOut,
            tags=["suggestions"],
            summary="Accept, modify (with the action taken) or dismiss nba's suggestion",
            responses={404: {"description": "no such task or suggestion"},
                       409: {"description": "decided before"},
                       503: {"description": "nba unavailable"}})
    async def decide(task_id: uuid.UUID, body: suggestions.DecisionIn, user: CurrentUser,
                     request: Request) -> suggestions.DecisionOut:
        return await decide_suggestion(ctx(request), user, task_id, body)

    @r.get("/suggestions/actions", response_model=list[suggestions.ActionOut],
           tags=["suggestions"], summary="The actions nba may suggest (the 'modify' picker)")
    async def suggestion_actions(user: CurrentUser) -> list[suggestions.ActionOut]:
        return suggestions.action_catalogue()

    @r.post("/tasks/{task_id}/assignment", response_model=Created, tags=["tasks"],
            summary="Assign, reassign or unassign (owner_id null)")
    async def assign(task_id: uuid.UUID, body: Assignment, user: CurrentUser, request: Request,
                     response: Response, match: IfMatch = None) -> Created:
        expected = require_if_match(match)
        with refusals():
            async with actions.unit_of_work(ctx(request)) as uow:
                v = await actions.assign(uow, user, task_id, owner_id=body.owner_id,
                                         reason=body.reason, expected_version=expected)
        response.headers["ETag"] = domain.etag(v)
        return Created(id=task_id, version=v)

    @r.post("/tasks/{task_id}/notes", response_model=Created, status_code=201, tags=["tasks"])
    async def add_note(task_id: uuid.UUID, body: NoteIn, user: CurrentUser,
                       request: Request) -> Created:
        with refusals():
            async with actions.unit_of_work(ctx(request)) as uow:
                return Created(id=await actions.add_note(uow, user, task_id, text=body.text))

    @r.post("/tasks/{task_id}/time", response_model=Created, status_code=201, tags=["tasks"])
    async def log_time(task_id: uuid.UUID, body: TimeIn, user: CurrentUser,
                       request: Request) -> Created:
        with refusals():
            async with actions.unit_of_work(ctx(request)) as uow:
                return Created(id=await actions.log_time(
                    uow, user, task_id, minutes=body.minutes, action=body.action,
                    performed_on=body.performed_on, note=body.note))

    @r.post("/tasks/{task_id}/subtasks", response_model=Created, status_code=201, tags=["tasks"])
    async def add_subtask(task_id: uuid.UUID, body: SubtaskIn, user: CurrentUser,
                          request: Request) -> Created:
        with refusals():
            async with actions.unit_of_work(ctx(request)) as uow:
                return Created(id=await actions.create_subtask(
                    uow, user, task_id, title=body.title, task_type=body.task_type,
                    priority=body.priority, due_at=body.due_at, owner_id=body.owner_id))

    @r.get("/views", response_model=list[ViewOut], tags=["queue"],
           summary="Saved views: the built-in ones, the org's and yours")
    async def list_views(user: CurrentUser, s: Session) -> list[ViewOut]:
        return await views_for(s, user)

    @r.post("/views", response_model=ViewOut, status_code=201, tags=["queue"])
    async def save_view(body: ViewIn, user: CurrentUser, s: Session) -> ViewOut:
        return await store_view(s, user, body)

    @r.delete("/views/{view_id}", status_code=204, tags=["queue"])
    async def delete_view(view_id: uuid.UUID, user: CurrentUser, s: Session) -> Response:
        v = store.saved_view
        cond = (v.c.id == view_id) & (v.c.org_id == user.org_id)
        cond &= (v.c.owner_id == user.id) | (v.c.owner_id.is_(None) if user.is_manager else sa.false())
        if (await s.execute(sa.delete(v).where(cond))).rowcount == 0:
            raise HTTPException(404, "no such view of yours")
        await s.commit()
        return Response(status_code=204)

    @r.get("/users", response_model=list[UserOut], tags=["directory"],
           summary="Your org's users (for assignment)")
    async def users(user: CurrentUser, s: Session) -> list[UserOut]:
        return [UserOut.model_validate(u) for u in await store.users_of(s, user.org_id)]

    @r.post("/users", response_model=UserOut, status_code=201, tags=["directory"],
            summary="Add a user to your org (managers)",
            responses={409: {"description": EMAIL_REFUSED}})
    async def add_user(body: UserIn, user: Manager, request: Request) -> UserOut:
        return await add_person(ctx(request), user, body)

    @r.patch("/users/{user_id}", response_model=UserOut, tags=["directory"],
             summary="Change a user's roles, skills, capacity, away or active (managers)")
    async def patch_user(user_id: str, body: UserPatch, user: Manager, request: Request) -> UserOut:
        return await change_user(ctx(request), user, user_id, body)

    @r.get("/routing/rules", response_model=RulesOut, tags=["routing"],
           summary="The org's routing rules, in priority order (managers)")
    async def get_rules(user: Manager, s: Session) -> RulesOut:
        return await current_rules(s, user)

    @r.put("/routing/rules", response_model=RulesOut, tags=["routing"],
           summary="Replace the org's routing rules: validated, versioned, live at once")
    async def put_rules(body: RulesIn, user: Manager, request: Request) -> RulesOut:
        return await replace_rules(ctx(request), user, body.rules)

    @r.get("/audit", response_model=list[AuditOut], tags=["audit"],
           summary="The audit trail (managers): search; format=csv to export")
    async def audit(user: Manager, s: Session, patient_id: str | None = None,
                    payer_id: str | None = None, task_type: str | None = None,
                    actor_id: str | None = None, task_id: uuid.UUID | None = None,
                    since: datetime | None = None, until: datetime | None = None,
                    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
                    format: Literal["json", "csv"] = "json"):
        out = await audit_search(s, user, patient_id=patient_id, payer_id=payer_id,
                                 task_type=task_type, actor_id=actor_id, task_id=task_id,
                                 since=since, until=until, limit=limit)
        if format == "json":
            return out
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["at", "actor_id", "action", "task_id", "patient_id", "payer_id",
                    "task_type", "detail"])
        for a in out:
            w.writerow([a.at.isoformat(), a.actor_id, a.action, a.task_id or "",
                        a.patient_id or "", a.payer_id or "", a.task_type or "",
                        json.dumps(a.detail, sort_keys=True)])
        return StreamingResponse(iter([buf.getvalue()]), media_type="text/csv",
                                 headers={"Content-Disposition": "attachment; filename=audit.csv"})

    from services.gateway import web

    top = APIRouter()
    top.include_router(r)
    top.include_router(fhir.router())
    top.include_router(web.router())
    top.include_router(sla_api.router())
    top.include_router(task_policy_api.router())
    return top
