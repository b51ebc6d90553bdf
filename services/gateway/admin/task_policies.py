"""Intake's task policies (priority rules and deadlines per task type), edited by managers
here: validated (the contract is ``common.task_policy``), versioned per org and task type,
audited, announced as TaskPolicyChanged and applied by intake to the next source event.
Intake itself has no write endpoint: this is the only way to change them."""
from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession

from common import task_policy
from common.events.generated import TaskPolicyChanged
from common.runtime import Context
from services.gateway.admin import store
from services.gateway.audit import store as audit_store
from services.gateway.errors import Invalid, NotFound


class TaskPolicyOut(task_policy.TaskPolicy):
    version: int  # 0: the org never set one, the defaults apply
    own: bool


async def current(session: AsyncSession, org_id: str) -> dict[str, TaskPolicyOut]:
    """Every task type's policy in force for an org: its latest version, else the default."""
    own = await store.task_policies(session, org_id)
    return {tt: TaskPolicyOut(**(own[tt].policy if tt in own else default),
                              version=own[tt].version if tt in own else 0, own=tt in own)
            for tt, default in task_policy.DEFAULTS.items()}


async def replace(ctx: Context, user, task_type: str, body: dict) -> TaskPolicyOut:
    """Validate, version, store, audit and announce a task type's new policy for the
    manager's org; NotFound for an unknown task type, Invalid names the bad field."""
    if task_type not in task_policy.TASK_TYPES:
        raise NotFound(f"task type '{task_type}' is not one of {', '.join(task_policy.TASK_TYPES)}")
    try:
        policy = task_policy.check(task_type, body)
    except task_policy.TaskPolicyError as exc:
        raise Invalid(str(exc)) from None
    async with ctx.unit_of_work() as uow:
        s = uow.session
        version = await store.add_version(s, store.task_policy_version,
                                          key={"org_id": user.org_id, "task_type": task_type},
                                          policy=policy, changed_by=user.id)
        await uow.emit(TaskPolicyChanged(task_type=task_type, version=version,
                                         policy_json=json.dumps(policy), changed_by=user.id),
                       org_id=user.org_id, key=user.org_id)
        await audit_store.audit(s, org_id=user.org_id, actor_id=user.id, action="task_policy_changed",
                                detail={"task_type": task_type, "version": version, "policy": policy})
    return TaskPolicyOut(**policy, version=version, own=True)
