"""The contract of an org's task policies (carried by TaskPolicyChanged): for each task
type, the SLA days, priority rules tried in order (``{"when": {"amount_gt": 5000},
"priority": "High"}``; a list under ``when`` means any), the priority when no rule
matches, and optionally when to open a task at all. The defaults a new org gets live
here too. Managers edit them in the gateway (validated, versioned, audited, announced);
intake applies them to the next source event."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from common import rules as lang
from common import vocabulary

TASK_TYPES = vocabulary.TASK_TYPES
PRIORITIES = vocabulary.PRIORITIES
Priority = Literal["Urgent", "High", "Routine", "Low"]
MAX_RULES = 100
MAX_CONDITION_CHARS = 4_000  # one rule's conditions, as JSON
MAX_CONDITION_DEPTH = 4


class TaskPolicyError(ValueError):
    """A policy that cannot work; the message names the field and the problem."""


def _size(value: Any, depth: int = 0) -> int:
    """Walk a conditions value: plain JSON, no NUL, bounded depth; return its size."""
    if depth > MAX_CONDITION_DEPTH:
        raise ValueError(f"nested more than {MAX_CONDITION_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text may not contain a NUL byte")
        return len(value) + 2
    if isinstance(value, bool | int | float) or value is None:
        return 8
    if isinstance(value, list):
        return sum(_size(v, depth + 1) for v in value) + 2
    if isinstance(value, dict):
        return sum(_size(k, depth + 1) + _size(v, depth + 1) for k, v in value.items()) + 2
    raise ValueError("not a JSON value")


def _conditions(value: Any) -> Any:
    if _size(value) > MAX_CONDITION_CHARS:
        raise ValueError(f"at most {MAX_CONDITION_CHARS} characters of conditions")
    try:
        lang.check_conditions(value, rule="-")
    except lang.RuleError as exc:
        raise ValueError(str(exc).removeprefix("-: ")) from None
    return value


class PriorityRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    when: dict[str, Any] | list[dict[str, Any]] = Field(
        default_factory=dict, description='{"amount_gt": 5000}; a list: any of them holds')
    priority: Priority

    @field_validator("when")
    @classmethod
    def _when(cls, v):
        return _conditions(v)


class TaskPolicy(BaseModel):
    """One task type's policy, as managers send it and intake applies it."""
    model_config = ConfigDict(extra="forbid")
    sla_days: int = Field(ge=0, le=365)
    rules: list[PriorityRule] = Field([], max_length=MAX_RULES)
    default_priority: Priority = "Routine"
    open_when: dict[str, Any] | list[dict[str, Any]] | None = Field(
        None, description="conditions to open a task at all (null: always)")
    deadline_margin_days: int = Field(5, ge=0, le=60)

    @field_validator("open_when")
    @classmethod
    def _open_when(cls, v):
        return None if v is None else _conditions(v)


# The owner's follow-up priority matrix (value and age) plus deadline urgency.
_MONEY_RULES = [
    {"when": {"days_to_limit_le": 7}, "priority": "Urgent"},
    {"when": [{"amount_gt": 10000}, {"age_days_gt": 120}, {"days_to_limit_le": 30}],
     "priority": "High"},
    {"when": [{"amount_gt": 5000}, {"age_days_gt": 60}], "priority": "Routine"},
]


def _p(sla_days: int, rules: list[dict], default_priority: str, open_when=None) -> dict:
    return {"sla_days": sla_days, "rules": rules, "default_priority": default_priority,
            "open_when": open_when, "deadline_margin_days": 5}


DEFAULTS: dict[str, dict] = {
    "Denial": _p(30, _MONEY_RULES, "Low"),
    "Follow-up": _p(14, _MONEY_RULES, "Low"),
    "Prior Auth": _p(3, [
        {"when": {"days_to_limit_le": 5}, "priority": "Urgent"},
        {"when": {"decision_in": ["denied", "partially_approved"]}, "priority": "High"},
        {"when": {"decision_eq": "pended"}, "priority": "Routine"}], "Low"),
    "RxRenewal": _p(2, [
        {"when": {"days_supply_left_le": 2}, "priority": "Urgent"},
        {"when": {"controlled_eq": True}, "priority": "High"}], "Routine"),
    "Co-sign": _p(7, [
        {"when": {"document_type_in": ["order", "telephone_order"]}, "priority": "High"}],
        "Routine"),
    "Referral": _p(5, [
        {"when": {"urgency_in": ["stat", "urgent"]}, "priority": "Urgent"},
        {"when": {"days_to_limit_le": 7}, "priority": "High"}], "Routine"),
    "Claim Status": _p(14, [
        {"when": {"status_in": ["denied", "rejected"]}, "priority": "High"},
        {"when": {"amount_gt": 5000}, "priority": "High"}], "Routine",
        open_when=[{"status_in": ["denied", "rejected"]}, {"days_in_status_ge": 30}]),
    "Care Coordination": _p(30, [], "Routine"),
}


def check(task_type: str, policy: dict) -> dict:
    """A valid policy for a task type, as stored and sent; TaskPolicyError names the field."""
    if task_type not in TASK_TYPES:
        raise TaskPolicyError(f"task_type: '{task_type[:60]}' is not one of "
                              f"{', '.join(TASK_TYPES)}")
    try:
        return TaskPolicy.model_validate(policy).model_dump(mode="json")
    except ValidationError as exc:
        raise TaskPolicyError("; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors())) from None
