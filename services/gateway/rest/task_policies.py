"""REST: intake's task policies (managers); intake applies a saved one to its next event."""
from __future__ import annotations

from fastapi import APIRouter, Path, Request

from common import task_policy
from services.gateway.admin import task_policies
from services.gateway.deps import Manager, Session, ctx

r = APIRouter(prefix="/task-policies", tags=["task policies"])

TaskType = Path(max_length=40, description=f"one of {', '.join(task_policy.TASK_TYPES)}")


@r.get("", response_model=dict[str, task_policies.TaskPolicyOut],
       summary="Priority rules and deadlines for every task type of the org (defaults "
               "where it set none)")
async def get_policies(user: Manager, s: Session) -> dict[str, task_policies.TaskPolicyOut]:
    return await task_policies.current(s, user.org_id)


@r.put("/{task_type}", response_model=task_policies.TaskPolicyOut,
       summary="Replace the org's policy for one task type: validated, versioned, audited; "
               "intake applies it to the next event, no deploy",
       responses={404: {"description": "not a task type"},
                  422: {"description": "the policy names the bad field"}})
async def put_policy(body: task_policy.TaskPolicy, user: Manager, request: Request,
                          task_type: str = TaskType) -> task_policies.TaskPolicyOut:
    return await task_policies.replace(ctx(request), user, task_type, body.model_dump())
