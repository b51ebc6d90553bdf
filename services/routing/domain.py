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

DEFAULT_QUEUE = "default"
CACHE_LIMIT = 10_000  # entries in each of a staff index's caches before it starts again


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


@dataclass(frozen=True)
class RuleSet:
    """An org's rules in priority order, each with its conditions parsed once."""

    version: int
    rules: list[dict]
    checks: list = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # "rule 'id' (name)", for reasons

    @classmethod
    def of(cls, rules: list[dict], version: int = 0) -> RuleSet:
        return cls(version, rules, [lang.compile_conditions(r.get("when", {})) for r in rules],
                   [f"rule '{r['id']}' ({r.get('name', '')})" for r in rules])


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
    """An org's staff as sets of ids by role, skill and team, plus who is unavailable (away
    or full) and each person's load key. A decision is then set operations and a heap over
    the best-matching group (in C), never a Python loop over everyone; the index lives
    across polls and changes only through ``set_load`` (see handlers)."""

    def __init__(self, staff: list[Staff]) -> None:
        self.by_id = {p.user_id: p for p in staff}
        self.all_ids = frozenset(self.by_id)
        self.by_role: dict[str, set[str]] = {}
        self.by_skill: dict[str, set[str]] = {}
        self.by_team: dict[str, set[str]] = {}
        for p in staff:
            for r in p.roles:
                self.by_role.setdefault(r, set()).add(p.user_id)
            for k in p.skills:
                self.by_skill.setdefault(k, set()).add(p.user_id)
            for t in p.teams:
                self.by_team.setdefault(t, set()).add(p.user_id)
        self.unavailable = {p.user_id for p in staff if p.away or p.active_tasks >= p.capacity}
        # (active tasks, last assigned, id) per person: the order among equal skill matches
        self.load = {p.user_id: (p.active_tasks, p.last_assigned, p.user_id) for p in staff}
        self._pools: dict[tuple, frozenset[str]] = {}  # a target's people
        self._groups: dict[tuple, list[tuple[int, list[str]]]] = {}  # by skill match

    def set_load(self, user_id: str, active_tasks: int, last_assigned: float | None = None
                 ) -> None:
        """A person's active task count (and when they were last given one) changed."""
        p = self.by_id.get(user_id)
        if p is None:
            return
        p.active_tasks = active_tasks
        if last_assigned is not None:
            p.last_assigned = last_assigned
        self.load[user_id] = (p.active_tasks, p.last_assigned, user_id)
        if p.away or p.active_tasks >= p.capacity:
            self.unavailable.add(user_id)
        else:
            self.unavailable.discard(user_id)

    def matching(self, target: dict, task: TaskCreated) -> frozenset[str]:
        """Ids of the people a target names: every condition it sets (a person, a role, a
        team, each required skill) holds."""
        uid = target.get("user") or (task.details.get(target["user_from"])
                                     if "user_from" in target else None)
        key = (uid, target.get("role"), target.get("team"), tuple(target.get("skills", ())))
        got = self._pools.get(key)
        if got is None:
            sets: list[set[str] | frozenset[str]] = []
            if "user" in target or "user_from" in target:
                sets.append({uid} if uid in self.by_id else set())
            if "role" in target:
                sets.append(self.by_role.get(target["role"], set()))
            if "team" in target:
                sets.append(self.by_team.get(target["team"], set()))
            sets += [self.by_skill.get(k, set()) for k in target.get("skills", ())]
            sets.sort(key=len)
            got = frozenset(sets[0].intersection(*sets[1:]) if sets else self.all_ids)
            if len(self._pools) > CACHE_LIMIT:  # e.g. many named users that do not exist
                self._pools.clear()
            self._pools[key] = got
        return got

    def ranked(self, pool: frozenset[str], tags: set[str], free: set[str] | frozenset[str],
               n: int = 5) -> list[tuple[str, int]]:
        """The n best of ``free`` (a subset of ``pool``) with their skill match: most of the
        task's tags first, then fewest active tasks, least recently assigned, id."""
        out: list[tuple[str, int]] = []
        key, everyone = self.load.__getitem__, len(free) == len(pool)
        for score, members in self._by_match(pool, tags):
            # Each group is a list kept in load order: between two decisions a load or two
            # changed, and sorting a nearly sorted list is one pass.
            members.sort(key=key)
            for u in members:
                if everyone or u in free:
                    out.append((u, score))
                    if len(out) == n:
                        return out
        return out

    def _by_match(self, pool: frozenset[str], tags: set[str]) -> list[tuple[int, list[str]]]:
        """``pool`` split by how many of the task's tags each person has, best first. It
        depends on skills only, so it is kept per (pool, tags) for the index's life."""
        relevant = frozenset(tags & self.by_skill.keys())
        key = (pool, relevant)
        groups = self._groups.get(key)
        if groups is None:
            at_least: list[frozenset[str]] = [pool]  # at_least[j]: who has j or more tags
            for t in relevant:
                at_least.append(frozenset())
                for j in range(len(at_least) - 1, 0, -1):
                    at_least[j] = at_least[j] | (at_least[j - 1] & self.by_skill[t])
            groups = [(j, at_least[j] - (at_least[j + 1] if j + 1 < len(at_least) else set()))
                      for j in range(len(at_least) - 1, -1, -1)]
            groups = [(j, sorted(g)) for j, g in groups if g]
            if len(self._groups) > CACHE_LIMIT:  # many distinct tag sets: start again
                self._groups.clear()
            self._groups[key] = groups
        return groups


def decide(task: TaskCreated, rules: list[dict] | RuleSet, staff: list[Staff] | StaffIndex, *,
           now: datetime | None = None, after: tuple[int, int] | None = None,
           exclude: frozenset[str] = frozenset()) -> Decision:
    """Where a new task goes, and why. ``after`` resumes past a (rule, target) position
    and ``exclude`` skips people already offered the task (an expired offer)."""
    index = staff if isinstance(staff, StaffIndex) else StaffIndex(staff)
    ruleset = rules if isinstance(rules, RuleSet) else RuleSet.of(rules)
    now = now or datetime.now(UTC)
    facts = facts_of(task, now)
    tags = _tags(task)
    for ri, (rule, check) in enumerate(zip(ruleset.rules, ruleset.checks, strict=True)):
        if after is not None and ri < after[0]:
            continue
        if not check(facts):
            continue
        for ti, target in enumerate(rule["targets"]):
            if after is not None and (ri, ti) <= after:
                continue
            if "queue" in target and not set(target) - {"queue", "timeout_s"}:
                return Decision(target["queue"], None, rule["id"],
                                f"{ruleset.names[ri]}: queue {target['queue']}",
                                position=(ri, ti))
            matching = index.matching(target, task)
            if exclude:
                matching = matching - exclude
            busy = len(matching & index.unavailable)
            free = matching - index.unavailable if busy else matching
            if not free:
                continue
            ranked = index.ranked(matching, tags, free)
            best = index.by_id[ranked[0][0]]
            return Decision(
                target.get("queue", DEFAULT_QUEUE), best.user_id, rule["id"],
                f"{ruleset.names[ri]}: {len(free)} available"
                f"{f', {busy} away or full' if busy else ''}; best skill match with the "
                f"fewest active tasks ({best.active_tasks})",
                [{"user_id": u, "score": score, "active_tasks": index.by_id[u].active_tasks,
                  "note": None} for u, score in ranked],
                position=(ri, ti), timeout_s=target.get("timeout_s"))
    return Decision(DEFAULT_QUEUE, None, None,
                    f"no routing rule found anyone available for a {task.task_type} task: "
                    "the org's default queue")
