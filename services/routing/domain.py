"""Routing decisions. Until an org has rules, everything goes to its default queue."""
from __future__ import annotations

from dataclasses import dataclass

from common.events.generated import TaskCreated

DEFAULT_QUEUE = "default"


@dataclass(frozen=True)
class Decision:
    queue: str
    owner_id: str | None
    rule_id: str | None
    reason: str


def decide(task: TaskCreated) -> Decision:
    """Where a new task goes."""
    return Decision(DEFAULT_QUEUE, None, None,
                    f"no routing rule matched a {task.task_type} task: the org's default queue")
