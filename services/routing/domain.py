"""Routing decisions: org rules in priority order pick a target (required skills, a role,
a team, a named person); among the staff who match, the best skill match with the lowest
active task count wins (ties: whoever was assigned least recently); people who are away
or at capacity are skipped. No rule, or nobody available: the org's default queue.
Plain data and functions, no I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from common import rules as lang
from common.events.generated import TaskCreated
from common.routing_rules import DEFAULT_RULES, check_rules  # noqa: F401 (re-exported)

DEFAULT_QUEUE = "default"


@dataclass
class Staff:
    user_id: str
    roles: frozenset[str]
    skills: frozenset[str]
    capacity: int
    active_tasks: int = 0
    away: bool = False
    last_assigned: float = 0.0  # epoch seconds; fairness among equals

    @property
    def teams(self) -> frozenset[str]:
        return frozenset(s.removeprefix("team:") for s in self.skills if s.startswith("team:")) \
            | frozenset(s.removesuffix("Team").lower() for s in self.skills if s.endswith("Team"))


@dataclass
class Decision:
    queue: str
    owner_id: str | None
    rule_id: str | None
    reason: str
    candidates: list[dict] = field(default_factory=list)


def facts_of(task: TaskCreated, now: datetime) -> dict[str, Any]:
    service = task.details.get("service_date")
    age = (now.date() - date.fromisoformat(service)).days if service else None
    return {"task_type": task.task_type, "payer_id": task.payer_id,
            "payer_class": task.payer_class,
            "amount": float(task.amount) if task.amount is not None else None,
            "age_days": age, "cpt_codes": task.cpt_codes, "icd_codes": task.icd_codes,
            "reason_codes": task.reason_codes, "source_module": task.source_module,
            "priority": task.priority, "patient_id": task.patient_id}


def _tags(task: TaskCreated) -> set[str]:
    return {t for t in (task.task_type, task.payer_class, task.payer_id, task.source_module)
            if t} | set(task.cpt_codes)


def _matches(s: Staff, target: dict, task: TaskCreated) -> bool:
    if "user" in target and s.user_id != target["user"]:
        return False
    if "user_from" in target and s.user_id != task.details.get(target["user_from"]):
        return False
    if "role" in target and target["role"] not in s.roles:
        return False
    if "team" in target and target["team"] not in s.teams:
        return False
    return set(target.get("skills", [])) <= s.skills


def decide(task: TaskCreated, rules: list[dict], staff: list[Staff], *,
           now: datetime | None = None) -> Decision:
    """Where a new task goes, and why."""
    now = now or datetime.now(UTC)
    facts = facts_of(task, now)
    tags = _tags(task)
    for rule in rules:
        if not lang.holds(rule.get("when", {}), facts):
            continue
        for target in rule["targets"]:
            if "queue" in target and len(target) == 1:
                return Decision(target["queue"], None, rule["id"],
                                f"rule '{rule['id']}' ({rule.get('name', '')}): queue {target['queue']}")
            matching = [s for s in staff if _matches(s, target, task)]
            free = [s for s in matching if not s.away and s.active_tasks < s.capacity]
            if not free:
                continue
            ranked = sorted(free, key=lambda s: (-len(s.skills & tags), s.active_tasks,
                                                 s.last_assigned, s.user_id))
            best = ranked[0]
            busy = len(matching) - len(free)
            return Decision(
                target.get("queue", DEFAULT_QUEUE), best.user_id, rule["id"],
                f"rule '{rule['id']}' ({rule.get('name', '')}): {len(free)} available"
                f"{f', {busy} away or full' if busy else ''}; best skill match with the "
                f"fewest active tasks ({best.active_tasks})",
                [{"user_id": s.user_id, "score": len(s.skills & tags),
                  "active_tasks": s.active_tasks, "note": None} for s in ranked[:5]])
    return Decision(DEFAULT_QUEUE, None, None,
                    f"no routing rule found anyone available for a {task.task_type} task: "
                    "the org's default queue")
