"""Intake's task policies (priority rules and deadlines per task type), edited by managers
here: validated (the contract is ``common.task_policy``), versioned per org and task type,
audited, announced as TaskPolicyChanged and applied by intake to the next source event.
Intake itself has no write endpoint: this is the only way to change them."""
from __future__ import annotations

import json

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Path, Request
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from common import task_policy
from common.events.generated import TaskPolicyChanged
from services.gateway import actions, store
from services.gateway.auth import Manager

task_policy_version = sa.Table(
    "task_policy_version", store.metadata,
    sa.Column("org_id", sa.Text, primary_key=True),
    sa.Column("task_type", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("policy", JSONB, nullable=False),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)


class TaskPolicyOut(task_policy.TaskPolicy):
    version: int  # 0: the org never set one, the defaults apply
    own: bool


async def current(session: AsyncSession, org_id: str) -> dict[str, TaskPolicyOut]:
    """Every task type's policy in force for an org: its latest version, else the default."""
    t = task_policy_version
    newest = sa.select(t.c.task_type, sa.func.max(t.c.version).label("version")).where(
        t.c.org_id == org_id).group_by(t.c.task_type).subquery()
    rows = (await session.execute(sa.select(t.c.task_type, t.c.version, t.c.policy).join(
        newest, (t.c.task_type == newest.c.task_type) & (t.c.version == newest.c.version))
        .where(t.c.org_id == org_id))).all()
    own = {r.task_type: r for r in rows}
    return {tt: TaskPolicyOut(**(own[tt].policy if tt in own else default),
                              version=own[tt].version if tt in own else 0, own=tt in own)
            for tt, default in task_policy.DEFAULTS.items()}


async def replace(ctx, user, task_type: str, body: dict) -> TaskPolicyOut:
    """Validate, version, store, audit and announce a task type's new policy for the
    manager's org; TaskPolicyError names the bad field."""
    policy = task_policy.check(task_type, body)
    t = task_policy_version
    async with actions.unit_of_work(ctx) as uow:
        s = uow.session
        await s.execute(sa.select(sa.func.pg_advisory_xact_lock(
            sa.func.hashtext(f"task_policy/{user.org_id}/{task_type}"))))  # one number per save
        version = 1 + (await s.execute(sa.select(sa.func.coalesce(sa.func.max(t.c.version), 0))
                                       .where(t.c.org_id == user.org_id,
                                              t.c.task_type == task_type))).scalar_one()
        await s.execute(sa.insert(t).values(org_id=user.org_id, task_type=task_type,
                                            version=version, policy=policy, changed_by=user.id))
        await uow.emit(TaskPolicyChanged(task_type=task_type, version=version,
                                         policy_json=json.dumps(policy), changed_by=user.id),
                       org_id=user.org_id, key=user.org_id)
        await store.audit(s, org_id=user.org_id, actor_id=user.id, action="task_policy_changed",
                          detail={"task_type": task_type, "version": version, "policy": policy})
    return TaskPolicyOut(**policy, version=version, own=True)


TaskType = Path(max_length=40, description=f"one of {', '.join(task_policy.TASK_TYPES)}")


def router() -> APIRouter:
    """Intake's task policies (managers)."""
    r = APIRouter(prefix="/api/v1/task-policies", tags=["task policies"])

    @r.get("", response_model=dict[str, TaskPolicyOut],
           summary="Priority rules and deadlines for every task type of the org (defaults "
                   "where it set none)")
    async def get_policies(user: Manager, request: Request) -> dict[str, TaskPolicyOut]:
        async with request.app.state.ctx.sessions() as s:
            return await current(s, user.org_id)

    @r.put("/{task_type}", response_model=TaskPolicyOut,
           summary="Replace the org's policy for one task type: validated, versioned, audited; "
                   "intake applies it to the next event, no deploy",
           responses={404: {"description": "not a task type"},
                      422: {"description": "the policy names the bad field"}})
    async def put_policy(body: task_policy.TaskPolicy, user: Manager, request: Request,
                         task_type: str = TaskType) -> TaskPolicyOut:
        if task_type not in task_policy.TASK_TYPES:
            raise HTTPException(404, f"task type '{task_type}' is not one of "
                                     f"{', '.join(task_policy.TASK_TYPES)}")
        try:
            return await replace(request.app.state.ctx, user, task_type, body.model_dump())
        except task_policy.TaskPolicyError as exc:
            raise HTTPException(422, str(exc)) from None

    return r
