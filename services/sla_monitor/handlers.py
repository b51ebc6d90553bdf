"""SLA monitor's handlers: start, pause, resume and stop clocks; learn policies and staff;
and the sweep that fires the escalation ladder."""
from __future__ import annotations

import json
from datetime import datetime

from common import logs
from common.events import Envelope
from common.events.generated import (
    AlertRequested,
    SlaDeadlineChanged,
    SlaPolicyChanged,
    TaskAssigned,
    TaskCreated,
    TaskEscalated,
    TaskStatusChanged,
    UserUpserted,
)
from common.sla_policy import MaintenanceWindow, SlaPolicy, best_policy
from common.uow import UnitOfWork
from services.sla_monitor import clock, domain, store

log = logs.get(__name__)
_parsed: dict[tuple[str, int], tuple[tuple[SlaPolicy, ...], tuple[MaintenanceWindow, ...]]] = {}


class OrgPolicies:
    """An org's current policies and maintenance windows (parsed once per version)."""

    def __init__(self, version: int, policies: tuple[SlaPolicy, ...],
                 windows: tuple[MaintenanceWindow, ...]) -> None:
        self.version, self.policies, self.windows = version, policies, windows
        self.by_id = {p.id: p for p in policies}

    def for_task(self, task_type: str, payer_id: str | None, priority: str | None) -> SlaPolicy | None:
        return best_policy(self.policies, task_type=task_type, payer_id=payer_id, priority=priority)

    def window(self, at: datetime, payer_id: str | None) -> MaintenanceWindow | None:
        return next((w for w in self.windows if w.covers(at, payer_id)), None)


NO_POLICIES = OrgPolicies(0, (), ())


async def org_policies(session, orgs: set[str]) -> dict[str, OrgPolicies]:
    out: dict[str, OrgPolicies] = {}
    for org, (version, policies, windows) in (await store.policy_sets(session, orgs)).items():
        key = (org, version)
        if key not in _parsed:
            _parsed[key] = (tuple(SlaPolicy.model_validate(p) for p in policies),
                            tuple(MaintenanceWindow.model_validate(w) for w in windows))
        out[org] = OrgPolicies(version, *_parsed[key])
    return out


def _plan(row: dict, policy: SlaPolicy | None) -> dict:
    """Set a clock's next rung from its state (none while paused or done)."""
    step = None
    if row["active"] and row["paused_at"] is None:
        step = domain.next_step(due_at=row["due_at"], level=row["level"], warned=row["warned"],
                                policy=policy)
    row["next_stage"], row["next_at"] = (step.stage, step.at) if step else (None, None)
    return row


async def task_created(batch: list[Envelope[TaskCreated]], uow: UnitOfWork) -> None:
    """Start each new task's SLA clock: its policy's deadline on the policy's calendar, or
    the due date it came with."""
    now = clock.CLOCK.now()
    pols = await org_policies(uow.session, {e.org_id for e in batch})
    rows, announce = [], []
    for e in batch:
        p = e.payload
        org = pols.get(e.org_id, NO_POLICIES)
        policy = org.for_task(p.task_type, p.payer_id, p.priority)
        row = {"task_id": p.task_id, "org_id": e.org_id, "task_type": p.task_type,
               "priority": p.priority, "payer_id": p.payer_id, "task_due_at": p.due_at,
               "started_at": now, "status": "requested", "active": True, "paused_at": None,
               "level": 0, "warned": False, "breach": 1,
               "policy_id": policy.id if policy else None,
               "policy_version": org.version if policy else None,
               "due_at": domain.deadline(policy, started_at=now, task_due_at=p.due_at)}
        rows.append(_plan(row, policy))
        if policy is not None:
            announce.append((e, row, policy))
    started = await store.start_clocks(uow.session, rows)
    for e, row, policy in announce:
        if row["task_id"] in started:
            await _announce(uow, e, row, policy, "policy")


async def _announce(uow: UnitOfWork, cause: Envelope, row: dict, policy: SlaPolicy | None,
                    reason: str) -> None:
    """Tell the gateway the deadline that counts (and whether the clock is stopped)."""
    await uow.emit(SlaDeadlineChanged(
        task_id=row["task_id"], due_at=row["due_at"], paused_at=row["paused_at"], reason=reason,
        policy_id=row["policy_id"], policy_version=row["policy_version"],
        due_soon_hours=policy.due_soon_hours if policy else None),
        cause=cause, org_id=row["org_id"], key=str(row["task_id"]))


def _state(row) -> dict:
    return {"task_id": row.task_id, **{c: getattr(row, c) for c in store.CLOCK_STATE}}


async def task_status_changed(batch: list[Envelope[TaskStatusChanged]], uow: UnitOfWork) -> None:
    """Stop a clock when its task is done; pause it on hold and resume it after (the
    deadline moves by the working time spent on hold); remember the businessStatus."""
    now = clock.CLOCK.now()
    found = await store.clocks(uow.session, [e.payload.task_id for e in batch], lock=True)
    pols = await org_policies(uow.session, {r.org_id for r in found.values()})
    meta = {tid: r for tid, r in found.items()}
    state = {tid: _state(r) | {"org_id": r.org_id} for tid, r in found.items()}
    moved = []
    for e in batch:
        p = e.payload
        row = state.get(p.task_id)
        if row is None:
            continue  # a task created before the monitor knew it, or another org's id
        r = meta[p.task_id]
        org = pols.get(r.org_id, NO_POLICIES)
        policy = org.by_id.get(row["policy_id"]) if row["policy_id"] else None
        pauses = policy.pause_on_hold if policy else True
        cal = policy.calendar if policy else domain.BusinessCalendar()
        row["status"] = p.to_status
        if p.owner_id:
            row["owner_id"] = p.owner_id
        if p.business_status and p.business_status.lower() != "escalated":
            row["business_status"] = p.business_status
        if p.to_status in domain.TERMINAL:
            row["active"] = False
        elif p.to_status == domain.ON_HOLD and pauses and row["paused_at"] is None:
            row["paused_at"] = now
            moved.append((e, dict(row), policy, "paused"))
        elif p.to_status != domain.ON_HOLD and row["paused_at"] is not None:
            row["due_at"] = domain.resumed_deadline(cal, due_at=row["due_at"],
                                                    paused_at=row["paused_at"], now=now)
            row["paused_at"] = None
            moved.append((e, dict(row), policy, "resumed"))
        _plan(row, policy)
    await store.save_clocks(uow.session, [{k: v for k, v in r.items() if k != "org_id"}
                                          for r in state.values()])
    for e, row, policy, reason in moved:
        await _announce(uow, e, row, policy, reason)


async def task_assigned(batch: list[Envelope[TaskAssigned]], uow: UnitOfWork) -> None:
    """Remember who owns a task (warnings go to the owner)."""
    found = await store.clocks(uow.session, [e.payload.task_id for e in batch], lock=True)
    state = {tid: _state(r) for tid, r in found.items()}
    for e in batch:
        if e.payload.task_id in state:
            state[e.payload.task_id]["owner_id"] = e.payload.owner_id
    await store.save_clocks(uow.session, list(state.values()))


async def user_upserted(batch: list[Envelope[UserUpserted]], uow: UnitOfWork) -> None:
    """Learn who the practice managers and org admins are."""
    latest = {(e.org_id, e.payload.user_id): e for e in batch}
    await store.upsert_staff(uow.session, [
        {"org_id": org, "user_id": uid, "roles": list(e.payload.roles), "active": e.payload.active}
        for (org, uid), e in latest.items()])


async def sla_policy_changed(batch: list[Envelope[SlaPolicyChanged]], uow: UnitOfWork) -> None:
    """Apply an org's new policies at once: new tasks get them, and clocks not yet escalated
    are re-deadlined (a later deadline means the old breach never fires)."""
    for e in batch:
        p = e.payload
        policies, windows = json.loads(p.policies_json), json.loads(p.maintenance_json)
        if not await store.save_policy_set(uow.session, org_id=e.org_id, version=p.version,
                                           policies=policies, maintenance=windows):
            continue  # an older version arriving late
        org = (await org_policies(uow.session, {e.org_id}))[e.org_id]
        changed = []
        for r in await store.open_clocks_of(uow.session, e.org_id):
            policy = org.for_task(r.task_type, r.payer_id, r.priority)
            row = _state(r)
            row["policy_id"] = policy.id if policy else None
            row["policy_version"] = org.version if policy else None
            if r.paused_at is None:
                row["due_at"] = domain.deadline(policy, started_at=r.started_at or r.due_at,
                                                task_due_at=r.task_due_at or r.due_at)
            changed.append(_plan(row, policy))
            if row["due_at"] != r.due_at or row["policy_id"] != r.policy_id:
                await _announce(uow, e, row | {"org_id": r.org_id}, policy, "policy-changed")
        await store.save_clocks(uow.session, changed)
        log.info("sla_policies_applied", org_id=e.org_id, version=p.version, clocks=len(changed))


HANDLERS = {TaskCreated: task_created, TaskStatusChanged: task_status_changed,
            TaskAssigned: task_assigned}
DIRECTORY_HANDLERS = {UserUpserted: user_upserted, SlaPolicyChanged: sla_policy_changed}


async def escalate_due(uow: UnitOfWork, now: datetime, limit: int) -> int:
    """Fire the due rung of up to ``limit`` clocks, in this one transaction: the ladder rows
    (unique per task, breach and rung), the clocks' next rungs and the outbox events. Returns
    how many clocks were handled (0: nothing was due)."""
    s = uow.session
    due = await store.due_clocks(s, now, limit)
    if not due:
        return 0
    orgs = {r.org_id for r in due}
    pols = await org_policies(s, orgs)
    people = await store.managers(s, orgs)
    rungs, clocks_out, events = [], [], []
    for r in due:
        org = pols.get(r.org_id, NO_POLICIES)
        policy = org.by_id.get(r.policy_id) if r.policy_id else None
        stage = domain.stage_to_fire(r.next_stage, due_at=r.due_at, now=now)
        row = _state(r)
        if stage == domain.WARNING:
            row["warned"] = True
            recipients = [r.owner_id] if r.owner_id else people.get((r.org_id, "practice_manager"), [])[:5]
            role = to_user = None
        else:
            row["level"], row["warned"] = stage, True
            role = domain.ROLE_FOR_LEVEL[stage]
            recipients = people.get((r.org_id, role), [])[:5]
            to_user = recipients[0] if recipients else None
        clocks_out.append(_plan(row, policy))
        window = org.window(now, r.payer_id)
        at = r.due_at if stage == domain.LEVEL1 else r.next_at
        esc_id = domain.escalation_id(r.task_id, r.breach, stage)
        rungs.append({"id": esc_id, "task_id": r.task_id, "org_id": r.org_id, "breach": r.breach,
                      "stage": stage, "due_at": r.due_at, "breached_at": at,
                      "escalated_at": now, "escalated_to_role": role,
                      "escalated_to_user_id": to_user, "recipients": recipients,
                      "alert_suppressed": window.id if window else None,
                      "policy_id": r.policy_id, "policy_version": r.policy_version})
        events.append((r, stage, at, esc_id, role, to_user, recipients, window))
    fresh = await store.record_escalations(s, rungs)
    await store.advance_clocks(s, clocks_out)
    for r, stage, at, esc_id, role, to_user, recipients, window in events:
        if esc_id not in fresh:
            continue  # this rung fired before (a crash between commit and a later step)
        if stage != domain.WARNING:
            await uow.emit(TaskEscalated(
                task_id=r.task_id, escalation_id=esc_id, level=stage, breach=r.breach,
                reason=f"SLA deadline {r.due_at.isoformat()} passed; level {stage}",
                task_type=r.task_type, due_at=r.due_at, breached_at=at,
                escalated_at=now, escalated_to_role=role, escalated_to_user_id=to_user,
                policy_id=r.policy_id, policy_version=r.policy_version,
                appeal=domain.is_appeal(r.task_type, r.business_status),
                alert_suppressed=window.id if window else None),
                org_id=r.org_id, key=str(r.task_id))
        if recipients:
            subject, body = domain.alert_text(task_id=r.task_id, task_type=r.task_type,
                                              stage=stage, due_at=r.due_at)
            await uow.emit(AlertRequested(
                alert_id=esc_id, kind="warning" if stage == domain.WARNING else "escalation",
                task_id=r.task_id, level=stage, recipient_user_ids=recipients,
                channels=["sms", "email"], subject=subject, body=body,
                suppressed_by=window.id if window else None),
                org_id=r.org_id, key=r.org_id)
    return len(due)
