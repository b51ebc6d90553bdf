"""The task's rules, as data: the FHIR R4 Task state machine, board columns, SLA status."""
from __future__ import annotations

from datetime import datetime, timedelta

from common import vocabulary
from services.gateway import errors

# FHIR R4 Task.status (https://hl7.org/fhir/R4/task.html#statemachine). "requested →
# in-progress" is allowed so staff can start work straight from the queue (the board's
# To Do → In Progress drag); entered-in-error is reachable from every state.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("requested", "cancelled"),
    "requested": ("received", "accepted", "rejected", "ready", "in-progress", "cancelled"),
    "received": ("accepted", "rejected", "ready", "in-progress", "cancelled"),
    "accepted": ("ready", "in-progress", "cancelled"),
    "ready": ("in-progress", "cancelled"),
    "in-progress": ("on-hold", "completed", "failed", "cancelled"),
    "on-hold": ("in-progress", "failed", "cancelled"),
    "rejected": (),
    "cancelled": (),
    "failed": (),
    "completed": (),
    "entered-in-error": (),
}
STATUSES = tuple(TRANSITIONS)
TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
# The state machine speaks the shared vocabulary: the same statuses, the same finished ones.
assert set(STATUSES) == set(vocabulary.STATUSES) and TERMINAL == vocabulary.FINISHED
ACTIVE = tuple(s for s in STATUSES if s not in TERMINAL)


def allowed_next(status: str) -> list[str]:
    """The states a task in ``status`` may move to."""
    nxt = list(TRANSITIONS.get(status, ()))
    if status != "entered-in-error":
        nxt.append("entered-in-error")
    return nxt


class TransitionRefused(errors.Refused):
    def __init__(self, current: str, wanted: str) -> None:
        allowed = allowed_next(current)
        self.wanted = wanted
        super().__init__(f"a task that is '{current}' cannot become '{wanted}'; "
                         f"allowed: {', '.join(allowed) or 'none (final state)'}",
                         current=current, allowed=allowed)


def check_transition(current: str, wanted: str) -> None:
    if wanted not in STATUSES:
        raise errors.Invalid(f"'{wanted}' is not a FHIR Task status; one of: {', '.join(STATUSES)}")
    if wanted != current and wanted not in allowed_next(current):
        raise TransitionRefused(current, wanted)


# Board columns: businessStatus first (finer states), then status. Kept as data so an
# org's board can change without code. "Escalated" shows where the work is (In Progress).
COLUMNS = ("To Do", "In Progress", "Review", "Done")
COLUMN_BY_BUSINESS_STATUS = {
    "in review": "Review", "review": "Review", "awaiting co-sign": "Review",
    "awaiting approval": "Review", "qa": "Review",
}
COLUMN_BY_STATUS = {
    "draft": "To Do", "requested": "To Do", "received": "To Do", "accepted": "To Do",
    "ready": "To Do", "in-progress": "In Progress", "on-hold": "In Progress",
    "completed": "Done", "cancelled": "Done", "failed": "Done", "rejected": "Done",
    "entered-in-error": "Done",
}
# What a drop on a column means (the board's drag and drop).
STATUS_FOR_COLUMN = {"To Do": "requested", "In Progress": "in-progress", "Done": "completed"}


def column_of(status: str, business_status: str | None) -> str:
    if business_status and business_status.lower() in COLUMN_BY_BUSINESS_STATUS:
        return COLUMN_BY_BUSINESS_STATUS[business_status.lower()]
    return COLUMN_BY_STATUS[status]


DUE_SOON = timedelta(hours=48)
SLA_STATES = ("overdue", "due-soon", "on-track")


def sla_status(due_at: datetime, now: datetime, status: str) -> str | None:
    """Overdue (red), due soon (amber) or on track (green); None once the task is done."""
    if status in TERMINAL:
        return None
    if due_at <= now:
        return "overdue"
    return "due-soon" if due_at - now <= DUE_SOON else "on-track"


PRIORITIES = vocabulary.PRIORITIES
PRIORITY_RANK = {p: i for i, p in enumerate(PRIORITIES)}

ROLES = vocabulary.ROLES
MANAGERS = vocabulary.MANAGERS
# Which task types each working role sees when a queue is filtered "by role".
ROLE_TASK_TYPES = {
    "biller": ("Denial", "Follow-up", "Claim Status", "Prior Auth"),
    "senior_biller": ("Denial", "Follow-up", "Claim Status", "Prior Auth"),
    "billing_admin": ("Denial", "Follow-up", "Claim Status", "Prior Auth"),
    "nurse": ("Prior Auth", "RxRenewal", "Referral", "Care Coordination"),
    "physician": ("Co-sign", "RxRenewal"),
    "care_coordinator": ("Care Coordination", "Referral"),
}


def etag(version: int) -> str:
    return f'W/"{version}"'


def version_from_etag(value: str) -> int | None:
    v = value.strip()
    if v.startswith("W/"):
        v = v[2:]
    v = v.strip('"')
    return int(v) if v.isdigit() else None
