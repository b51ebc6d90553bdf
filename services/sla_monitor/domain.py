"""SLA clocks as plain functions: business-calendar arithmetic, pause and resume, and the
escalation ladder. No I/O; every time is an aware UTC datetime."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from common import vocabulary
from common.sla_policy import BusinessCalendar, SlaPolicy

MAX_DAYS = 3 * 366  # a calendar that counts nothing for three years is a mistake, not a deadline
TERMINAL = vocabulary.FINISHED
ON_HOLD = "on-hold"
# The ladder. Stage 0 is the "will breach in X" warning (only if the policy asks for one);
# stages 1 and 2 are escalation levels: practice manager, then org admin.
WARNING, LEVEL1, LEVEL2 = 0, 1, 2
ROLE_FOR_LEVEL = {LEVEL1: "practice_manager", LEVEL2: "org_admin"}
DEFAULT_LEVEL2_AFTER = timedelta(hours=24)
ESCALATION_NS = uuid.UUID("5d1b8f2e-3c47-4a9e-9f0b-7e2c1a6d4b33")


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_round_the_clock(cal: BusinessCalendar) -> bool:
    return cal.start is None and not cal.exclude_weekends and not cal.holidays


def working_intervals(cal: BusinessCalendar, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The calendar's working intervals (UTC) from ``since`` on, clipped to start at it."""
    tz = _zone(cal.timezone)
    day = since.astimezone(tz).date()
    holidays = set(cal.holidays)
    for _ in range(MAX_DAYS):
        if not ((cal.exclude_weekends and day.weekday() >= 5) or day in holidays):
            if cal.start is None:
                s = datetime.combine(day, time(0), tzinfo=tz)
                e = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
            else:
                s = datetime.combine(day, cal.start, tzinfo=tz)
                e = datetime.combine(day, cal.end, tzinfo=tz)
            s, e = s.astimezone(UTC), e.astimezone(UTC)
            if e > since:
                yield max(s, since), e
        day += timedelta(days=1)
    raise ValueError("the business calendar has no working time in the next three years")


def add_business(cal: BusinessCalendar, start: datetime, seconds: float) -> datetime:
    """The moment ``seconds`` of working time after ``start``."""
    if is_round_the_clock(cal):
        return start + timedelta(seconds=seconds)
    left = timedelta(seconds=seconds)
    for s, e in working_intervals(cal, start):
        if e - s >= left:
            return s + left
        left -= e - s
    raise AssertionError("unreachable")  # working_intervals raises first


def business_seconds(cal: BusinessCalendar, a: datetime, b: datetime) -> float:
    """Working time between a and b (0 when b <= a)."""
    if b <= a:
        return 0.0
    if is_round_the_clock(cal):
        return (b - a).total_seconds()
    total = timedelta()
    for s, e in working_intervals(cal, a):
        if s >= b:
            break
        total += min(e, b) - s
    return total.total_seconds()


def deadline(policy: SlaPolicy | None, *, started_at: datetime, task_due_at: datetime) -> datetime:
    """A task's deadline: its policy's working hours from its start, or (no policy) the due
    date the task came with."""
    if policy is None:
        return task_due_at
    return add_business(policy.calendar, started_at, policy.deadline_hours * 3600)


def resumed_deadline(cal: BusinessCalendar, *, due_at: datetime, paused_at: datetime,
                     now: datetime) -> datetime:
    """Where the deadline moves when a paused clock runs again: the working time that was
    left at the pause is counted from now. A clock paused after its breach stays breached;
    its later levels move by the pause."""
    if paused_at < due_at:
        return add_business(cal, now, business_seconds(cal, paused_at, due_at))
    return due_at + (now - paused_at)


@dataclass(frozen=True)
class Step:
    stage: int
    at: datetime


def next_step(*, due_at: datetime, level: int, warned: bool, policy: SlaPolicy | None) -> Step | None:
    """The next rung of the ladder and when it is due, given what already fired."""
    if level == 0 and not warned and policy is not None and policy.warn_before_hours:
        return Step(WARNING, due_at - timedelta(hours=policy.warn_before_hours))
    if level == 0:
        return Step(LEVEL1, due_at)
    if level == 1:
        after = DEFAULT_LEVEL2_AFTER if policy is None else (
            timedelta(hours=policy.level2_after_hours) if policy.level2_after_hours else None)
        return Step(LEVEL2, due_at + after) if after is not None else None
    return None


def stage_to_fire(step_stage: int, *, due_at: datetime, now: datetime) -> int:
    """A warning found only after the deadline passed is skipped for level 1."""
    return LEVEL1 if step_stage == WARNING and now >= due_at else step_stage


def escalation_id(task_id: uuid.UUID, breach: int, stage: int) -> uuid.UUID:
    """The same rung of the same breach of a task always has the same id (the dedup key)."""
    return uuid.uuid5(ESCALATION_NS, f"{task_id}/{breach}/{stage}")


def is_appeal(task_type: str, business_status: str | None) -> bool:
    """An appeal: a Denial being appealed (its businessStatus starts with 'appeal', e.g.
    'Appeal drafted', 'Appeal submitted')."""
    return task_type == "Denial" and (business_status or "").strip().lower().startswith("appeal")


def alert_text(*, task_id: uuid.UUID, task_type: str, stage: int, due_at: datetime) -> tuple[str, str]:
    """Subject and body of an alert: ids, type and times only, never patient data."""
    due = due_at.strftime("%Y-%m-%d %H:%M UTC")
    if stage == WARNING:
        return (f"SLA warning: {task_type} task due {due}",
                f"Task {task_id} ({task_type}) will breach its SLA at {due}.")
    who = "practice manager" if stage == LEVEL1 else "org admin"
    return (f"SLA breach, level {stage}: {task_type} task",
            f"Task {task_id} ({task_type}) missed its SLA deadline ({due}) and is escalated "
            f"to the {who} (level {stage}).")
