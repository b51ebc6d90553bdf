"""The queue's filters and pages, and saved views (a saved view is a stored QueueFilter)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from common import limits
from services.gateway import domain
from services.gateway.tasks.models import Id, TaskOut


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


BUILTIN_VIEWS: dict[str, dict] = {
    "My Tasks": {"owner": "me"},
    "Denial Queue": {"task_type": ["Denial"]},
    "Overdue": {"sla": "overdue"},
    "Co-sign Requests": {"task_type": ["Co-sign"]},
    "My Specialties": {"skills": ["mine"]},
}
