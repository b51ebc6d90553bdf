"""What the gateway does with an SLA escalation: one transaction per event with the task
change (businessStatus Escalated, the new owner, the level), its history row (to_status
Escalated), an audit row, TaskAssigned for routing's workload (remembered on the task, so
a routing decision that arrives later cannot undo the escalation), and for an overdue
appeal at level 2 an escalation sub-task for the org admin."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from common import logs
from common.consumer import Transient
from common.events import Envelope
from common.events.generated import SlaDeadlineChanged, TaskAssigned, TaskCreated, TaskEscalated
from common.uow import UnitOfWork
from services.gateway import domain
from services.gateway.audit import store as audit_store
from services.gateway.directory import store as directory_store
from services.gateway.tasks import actions, store

log = logs.get(__name__)
ACTOR = "sla_monitor"
ESCALATION_TASK_DUE = timedelta(days=2)
SUBTASK_NS = uuid.UUID("0c8f3a6e-71d2-4b59-a4e1-9d6b2f5c8e47")


async def _owner(session, org_id: str, user_id: str | None) -> str | None:
    if not user_id:
        return None
    row = await directory_store.user_by_id(session, org_id, user_id)
    return row.id if row is not None and row.active else None


async def _stored_task(session, org_id: str, task_id):
    """The task, locked; Transient if we have not stored it yet (the monitor saw its
    TaskCreated first, on another topic): the event is retried shortly."""
    row = await store.get_task(session, org_id, task_id, for_update=True)
    if row is None:
        raise Transient(f"task {task_id} of org {org_id} is not in the task store yet")
    return row


async def task_escalated(batch: list[Envelope[TaskEscalated]], uow: UnitOfWork) -> None:
    """Record each escalation on its task and hand the task to whom the monitor named."""
    s = uow.session
    for e in batch:
        p = e.payload
        row = await _stored_task(s, e.org_id, p.task_id)
        detail = {"level": p.level, "reason": p.reason, "due_at": p.due_at.isoformat(),
                  "breached_at": p.breached_at.isoformat(), "role": p.escalated_to_role,
                  "escalated_to_user_id": p.escalated_to_user_id, "previous_owner_id": row.owner_id,
                  "policy_id": p.policy_id, "policy_version": p.policy_version,
                  "alert_suppressed": p.alert_suppressed, "escalation_id": str(p.escalation_id)}
        if row.status in domain.TERMINAL or row.escalation_level >= p.level:
            # Finished meanwhile, or this level is already recorded: audit, change nothing.
            await audit_store.audit(s, org_id=e.org_id, actor_id=ACTOR, action="escalation_ignored",
                                    task_row=row, detail={**detail, "status": row.status,
                                                          "recorded_level": row.escalation_level})
            continue
        owner = await _owner(s, e.org_id, p.escalated_to_user_id) or row.owner_id
        assigned = {}
        if owner != row.owner_id:  # routing's workload follows; a late TaskRouted cannot undo it
            announced = await uow.emit(TaskAssigned(
                task_id=p.task_id, owner_id=owner, previous_owner_id=row.owner_id, actor_id=ACTOR,
                reason=f"SLA escalation level {p.level}", task_type=row.task_type),
                cause=e, key=str(p.task_id))
            assigned = {"assigned_event_id": announced.event_id}
        await store.update_task(s, p.task_id, business_status="Escalated", owner_id=owner,
                                escalation_level=p.level, **assigned)
        await store.add_history(s, [{
            "task_id": p.task_id, "org_id": e.org_id, "at": e.occurred_at, "actor": ACTOR,
            "action": "escalated", "from_status": row.status, "to_status": "Escalated",
            "event_id": e.event_id, "detail": detail}])
        await audit_store.audit(s, org_id=e.org_id, actor_id=ACTOR, action="escalated", task_row=row,
                                detail=detail)
        if p.level == 2 and p.appeal:
            await _escalation_task(uow, e, row, owner)


async def _escalation_task(uow: UnitOfWork, e: Envelope[TaskEscalated], parent, owner: str | None) -> None:
    """An overdue appeal at level 2: a sub-task "Escalation: …" for the org admin."""
    sub_id = uuid.uuid5(SUBTASK_NS, str(e.payload.escalation_id))  # once per escalation
    now = datetime.now(UTC)
    payload = TaskCreated(
        task_id=sub_id, task_type=parent.task_type, priority="Urgent",
        title=f"Escalation: {parent.title}"[:200], due_at=now + ESCALATION_TASK_DUE,
        patient_id=parent.patient_id, patient_name=parent.patient_name, payer_id=parent.payer_id,
        payer_name=parent.payer_name, payer_class=parent.payer_class, source_kind="Escalation",
        source_id=str(e.payload.escalation_id), source_module=parent.source_module,
        part_of=parent.id, details={"escalated_task": str(parent.id), "level": "2"})
    fresh = await store.create_from_events(uow.session, [{
        "payload": payload, "org_id": parent.org_id, "at": now, "actor": ACTOR, "owner_id": owner,
        "detail": {"part_of": str(parent.id), "escalation_id": str(e.payload.escalation_id)}}])
    if not fresh:
        return
    await audit_store.audit(uow.session, org_id=parent.org_id, actor_id=ACTOR, action="subtask",
                            task_row=parent,
                            detail={"subtask_id": str(sub_id), "why": "overdue appeal, level 2"})
    await actions.announce_subtask(uow, payload, owner_id=owner, actor_id=ACTOR,
                                   reason="escalation task for the org admin", cause=e)
    log.info("escalation_task_created", task_id=str(parent.id), subtask_id=str(sub_id))


async def sla_deadline_changed(batch: list[Envelope[SlaDeadlineChanged]], uow: UnitOfWork) -> None:
    """Show the deadline that counts (a policy's, or moved by a pause) as the task's due date.
    No version bump: staff editing the task are not in conflict with the clock."""
    s = uow.session
    for e in batch:
        p = e.payload
        row = await _stored_task(s, e.org_id, p.task_id)
        await store.set_due(s, p.task_id, due_at=p.due_at, paused_at=p.paused_at)
        await store.add_history(s, [{
            "task_id": p.task_id, "org_id": e.org_id, "at": e.occurred_at, "actor": ACTOR,
            "action": "sla", "event_id": e.event_id,
            "detail": {"reason": p.reason, "due_at": p.due_at.isoformat(),
                       "previous_due_at": row.due_at.isoformat(),
                       "paused_at": p.paused_at.isoformat() if p.paused_at else None,
                       "policy_id": p.policy_id, "policy_version": p.policy_version}}])


HANDLERS = {TaskEscalated: task_escalated, SlaDeadlineChanged: sla_deadline_changed}
