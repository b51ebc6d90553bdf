"""The SLA policy contract shared by the gateway (which validates and versions it) and the
SLA monitor (which applies it): per org, a list of policies and of maintenance windows.

A policy applies to tasks of one type (or "*"), optionally only one payer's or one
priority's; the most specific match wins (payer beats priority beats type only).
"""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_DEADLINE_HOURS = 30 * 24.0  # a task with no deadline of its own: 30 days


class SlaPolicyError(ValueError):
    """A policy document that cannot be applied; the message names the item and field."""


class BusinessCalendar(BaseModel):
    """Which hours count towards a deadline. No hours: the whole day counts."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    start: time | None = Field(None, description="business hours start, org-local, e.g. 09:00")
    end: time | None = Field(None, description="business hours end, org-local, e.g. 17:00")
    exclude_weekends: bool = False
    holidays: tuple[date, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{v}' (use an IANA name such as America/New_York)") from None
        return v

    @model_validator(mode="after")
    def _hours(self) -> BusinessCalendar:
        if (self.start is None) != (self.end is None):
            raise ValueError("business hours need both start and end, or neither")
        if self.start is not None and self.end <= self.start:
            raise ValueError("business hours: end must be after start (same day)")
        return self


class SlaPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=60)
    task_type: str = Field("*", min_length=1, max_length=60, description="a task type, or * for any")
    payer_id: str | None = Field(None, max_length=60)
    priority: str | None = Field(None, pattern="^(Urgent|High|Routine|Low)$")
    deadline_hours: float = Field(DEFAULT_DEADLINE_HOURS, gt=0, le=24 * 400,
                                  description="business hours (per the calendar) from creation")
    calendar: BusinessCalendar = BusinessCalendar()
    pause_on_hold: bool = True
    due_soon_hours: float = Field(48, ge=0, le=24 * 60)
    warn_before_hours: float | None = Field(None, gt=0, le=24 * 60,
                                            description="alert the owner this long before the deadline")
    level2_after_hours: float | None = Field(24, gt=0, le=24 * 60,
                                             description="still overdue this long after level 1: level 2")

    def specificity(self) -> int:
        return (4 if self.payer_id else 0) + (2 if self.priority else 0) + (1 if self.task_type != "*" else 0)

    def matches(self, *, task_type: str, payer_id: str | None, priority: str | None) -> bool:
        return ((self.task_type in ("*", task_type))
                and (self.payer_id is None or self.payer_id == payer_id)
                and (self.priority is None or self.priority == priority))


class MaintenanceWindow(BaseModel):
    """While it lasts, alerts (for one payer's tasks, or all) are suppressed; escalations
    are still recorded."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=60)
    starts_at: datetime
    ends_at: datetime
    payer_id: str | None = Field(None, max_length=60)

    @model_validator(mode="after")
    def _order(self) -> MaintenanceWindow:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("starts_at and ends_at need a UTC offset (e.g. 2026-12-01T02:00:00Z)")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    def covers(self, at: datetime, payer_id: str | None) -> bool:
        return self.starts_at <= at < self.ends_at and (self.payer_id is None or self.payer_id == payer_id)


class SlaDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    policies: tuple[SlaPolicy, ...] = Field((), max_length=200)
    maintenance_windows: tuple[MaintenanceWindow, ...] = Field((), max_length=200)


def _where(exc: ValidationError, doc: dict) -> str:
    parts = []
    for err in exc.errors():
        loc = list(err["loc"])
        label = ".".join(str(x) for x in loc)
        if len(loc) >= 2 and loc[0] in ("policies", "maintenance_windows") and isinstance(loc[1], int):
            try:
                item_id = doc[loc[0]][loc[1]].get("id")
            except (KeyError, IndexError, AttributeError, TypeError):
                item_id = None
            if item_id:
                label = f"{loc[0]}[{loc[1]}] ('{item_id}')" + "".join(f".{x}" for x in loc[2:])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{label}: {msg}")
    return "; ".join(parts)


def check(doc: dict) -> SlaDocument:
    """Validate a policy document; SlaPolicyError names each bad item and field."""
    try:
        parsed = SlaDocument.model_validate(doc)
    except ValidationError as exc:
        raise SlaPolicyError(_where(exc, doc)) from None
    for kind, items in (("policies", parsed.policies), ("maintenance_windows", parsed.maintenance_windows)):
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                raise SlaPolicyError(f"{kind}: id '{item.id}' appears twice")
            seen.add(item.id)
    scopes: dict[tuple, str] = {}
    for p in parsed.policies:
        scope = (p.task_type, p.payer_id, p.priority)
        if scope in scopes:
            raise SlaPolicyError(f"policies: '{p.id}' and '{scopes[scope]}' apply to the same tasks "
                                 f"(task_type={p.task_type}, payer_id={p.payer_id}, priority={p.priority})")
        scopes[scope] = p.id
    return parsed


def best_policy(policies: tuple[SlaPolicy, ...] | list[SlaPolicy], *, task_type: str,
                payer_id: str | None, priority: str | None) -> SlaPolicy | None:
    """The most specific policy for a task, or None."""
    found = [p for p in policies if p.matches(task_type=task_type, payer_id=payer_id, priority=priority)]
    return max(found, key=SlaPolicy.specificity, default=None)
