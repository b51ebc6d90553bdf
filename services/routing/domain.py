"""Routing decisions: org rules in priority order pick a target (required skills, a role,
a team, a named person); among the staff who match, the best skill match with the lowest
active task count wins (ties: whoever was assigned least recently); people who are away
or at capacity are skipped. No rule, or nobody available: the org's default queue.
Plain data and functions, no I/O."""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from common import rules as lang
from common.events.generated import TaskCreated

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

    teams: frozenset[str] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        # Teams are skills named "team:<name>" or "<Name>Team" (e.g. EscalationTeam).
        self.teams = frozenset(s.removeprefix("team:") for s in self.skills
                               if s.startswith("team:")) | frozenset(
            s.removesuffix("Team").lower() for s in self.skills if s.endswith("Team"))


@dataclass
class Decision:
    queue: str
    owner_id: str | None
    rule_id: str | None
    reason: str
    candidates: list[dict] = field(default_factory=list)
    position: tuple[int, int] | None = None  # (rule, target) that chose, to resume after
    timeout_s: int | None = None  # the chosen target's offer time, if it has one


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


class StaffIndex:
    """An org's staff indexed by id, role, skill and team, built once per poll, so a
    decision looks at the people a target names instead of scanning everyone."""

    def __init__(self, staff: list[Staff]) -> None:
        self.staff = staff
        self.by_id = {p.user_id: p for p in staff}
        self.by_role: dict[str, list[Staff]] = {}
        self.by_skill: dict[str, set[str]] = {}
        self.by_team: dict[str, list[Staff]] = {}
        for p in staff:
            for r in p.roles:
                self.by_role.setdefault(r, []).append(p)
            for k in p.skills:
                self.by_skill.setdefault(k, set()).add(p.user_id)
            for t in p.teams:
                self.by_team.setdefault(t, []).append(p)

    def matching(self, target: dict, task: TaskCreated) -> list[Staff]:
        if "user" in target or "user_from" in target:
            uid = target.get("user") or task.details.get(target["user_from"])
            pool = [self.by_id[uid]] if uid in self.by_id else []
        elif "role" in target:
            pool = self.by_role.get(target["role"], [])
        elif "team" in target:
            pool = self.by_team.get(target["team"], [])
        elif target.get("skills"):
            sets = sorted((self.by_skill.get(k, set()) for k in target["skills"]), key=len)
            ids = set.intersection(*sets) if sets else set()
            return [self.by_id[i] for i in ids]
        else:
            pool = self.staff
        need = set(target.get("skills", ()))
        return [p for p in pool if need <= p.skills
                and ("role" not in target or target["role"] in p.roles)
                and ("team" not in target or target["team"] in p.teams)]


def decide(task: TaskCreated, rules: list[dict], staff: list[Staff] | StaffIndex, *,
           now: datetime | None = None, after: tuple[int, int] | None = None,
           exclude: frozenset[str] = frozenset()) -> Decision:
    """Where a new task goes, and why. ``after`` resumes past a (rule, target) position
    and ``exclude`` skips people already offered the task (an expired offer)."""
    index = staff if isinstance(staff, StaffIndex) else StaffIndex(staff)
    now = now or datetime.now(UTC)
    facts = facts_of(task, now)
    tags = _tags(task)
    for ri, rule in enumerate(rules):
        if after is not None and ri < after[0]:
            continue
        if not lang.holds(rule.get("when", {}), facts):
            continue
        for ti, target in enumerate(rule["targets"]):
            if after is not None and (ri, ti) <= after:
                continue
            if "queue" in target and not set(target) - {"queue", "timeout_s"}:
                return Decision(target["queue"], None, rule["id"],
                                f"rule '{rule['id']}' ({rule.get('name', '')}): queue {target['queue']}",
                                position=(ri, ti))
            matching = [s for s in index.matching(target, task) if s.user_id not in exclude]
            free = [s for s in matching if not s.away and s.active_tasks < s.capacity]
            if not free:
                continue
            ranked = heapq.nsmallest(5, free, key=lambda s: (-len(s.skills & tags), s.active_tasks,
                                                             s.last_assigned, s.user_id))
            best = ranked[0]
            busy = len(matching) - len(free)
            return Decision(
                target.get("queue", DEFAULT_QUEUE), best.user_id, rule["id"],
                f"rule '{rule['id']}' ({rule.get('name', '')}): {len(free)} available"
                f"{f', {busy} away or full' if busy else ''}; best skill match with the "
                f"fewest active tasks ({best.active_tasks})",
                [{"user_id": s.user_id, "score": len(s.skills & tags),
                  "active_tasks": s.active_tasks, "note": None} for s in ranked[:5]],
                position=(ri, ti), timeout_s=target.get("timeout_s"))
    return Decision(DEFAULT_QUEUE, None, None,
                    f"no routing rule found anyone available for a {task.task_type} task: "
                    "the org's default queue")
