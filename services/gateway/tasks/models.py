"""What the API shows of a task and what staff send to change one."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from common import limits
from services.gateway import domain
from services.gateway.tasks import suggestions

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
