"""What staff do to a task. Each action is one transaction: the task change, its history
row, an audit row and the event for the other services (through the outbox)."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from common.events.generated import (
    TaskAssigned,
    TaskCreated,
    TaskNoteAdded,
    TaskStatusChanged,
    TaskTimeLogged,
)
from common.runtime import Context
from common.uow import UnitOfWork
from services.gateway import domain
from services.gateway.audit import store as audit_store
from services.gateway.auth import User
from services.gateway.directory import store as directory_store
from services.gateway.errors import Invalid, NotFound, Stale
from services.gateway.tasks import store


def unit_of_work(ctx: Context):
    """A transaction for one staff action; events go out after commit."""
    return ctx.unit_of_work()


async def locked(uow: UnitOfWork, user: User, task_id: uuid.UUID, expected: int | None = None):
    """The task of the user's org, locked for the transaction; NotFound, or Stale when
    ``expected`` is not its version."""
    row = await store.get_task(uow.session, user.org_id, task_id, for_update=True)
    if row is None:
        raise NotFound(f"task {task_id} not found", what="task")
    if expected is not None and expected != row.version:
        raise Stale(row.version)
    return row


def _now() -> datetime:
    return datetime.now(UTC)


async def record(uow: UnitOfWork, user: User, row, action: str, detail: dict, *,
                 from_status: str | None = None, to_status: str | None = None) -> None:
    """A history row on the task and an audit row, for one staff action."""
    await store.add_history(uow.session, [{
        "task_id": row.id, "org_id": row.org_id, "at": _now(), "actor": user.id,
        "action": action, "from_status": from_status, "to_status": to_status,
        "detail": detail}])
    await audit_store.audit(uow.session, org_id=row.org_id, actor_id=user.id, action=action,
                            task_row=row, detail={**detail, **({"to": to_status} if to_status else {})})


async def change_status(uow: UnitOfWork, user: User, task_id: uuid.UUID, *, status: str,
                        business_status: str | None = None, reason: str | None = None,
                        expected_version: int | None = None) -> int:
    """Move a task in the FHIR state machine (and/or set its businessStatus)."""
    row = await locked(uow, user, task_id, expected_version)
    domain.check_transition(row.status, status)
    if status == row.status and business_status == row.business_status:
        return row.version
    version = await store.update_task(uow.session, task_id, status=status,
                                      business_status=business_status)
    label = "Escalated" if (business_status or "").lower() == "escalated" else status
    await record(uow, user, row, "status",
                  {"reason": reason, "business_status": business_status},
                  from_status=row.status, to_status=label)
    await uow.emit(TaskStatusChanged(
        task_id=task_id, from_status=row.status, to_status=status,
        business_status=business_status, reason=reason, actor_id=user.id,
        task_type=row.task_type, owner_id=row.owner_id), org_id=row.org_id, key=str(task_id))
    return version


async def assign(uow: UnitOfWork, user: User, task_id: uuid.UUID, *, owner_id: str | None,
                 reason: str | None = None, expected_version: int | None = None) -> int:
    """Assign, reassign or (owner None) unassign a task."""
    row = await locked(uow, user, task_id, expected_version)
    if owner_id is not None:
        owner = await directory_store.user_by_id(uow.session, user.org_id, owner_id)
        if owner is None or not owner.active:
            raise Invalid(f"owner_id: no active user {owner_id} in your org")
    if owner_id == row.owner_id:
        return row.version
    announced = await uow.emit(TaskAssigned(
        task_id=task_id, owner_id=owner_id, previous_owner_id=row.owner_id, actor_id=user.id,
        reason=reason, task_type=row.task_type), org_id=row.org_id, key=str(task_id))
    # Remembered on the task: a routing decision that arrives later cannot undo this choice.
    version = await store.update_task(uow.session, task_id, owner_id=owner_id,
                                      assigned_event_id=announced.event_id)
    action = "unassigned" if owner_id is None else ("reassigned" if row.owner_id else "assigned")
    await record(uow, user, row, action,
                  {"owner_id": owner_id, "previous_owner_id": row.owner_id, "reason": reason})
    return version


async def add_note(uow: UnitOfWork, user: User, task_id: uuid.UUID, *, text: str) -> uuid.UUID:
    """Add a note to a task."""
    row = await locked(uow, user, task_id, None)
    note_id = uuid.uuid4()
    await store.add_note(uow.session, id=note_id, task_id=task_id, org_id=row.org_id,
                         author_id=user.id, at=_now(), text=text)
    await record(uow, user, row, "note", {"note_id": str(note_id)})
    await uow.emit(TaskNoteAdded(task_id=task_id, note_id=note_id, author_id=user.id),
                   org_id=row.org_id, key=str(task_id))
    return note_id


async def log_time(uow: UnitOfWork, user: User, task_id: uuid.UUID, *, minutes: int,
                   action: str, performed_on: date | None = None,
                   note: str | None = None) -> uuid.UUID:
    """Log minutes of work on a task."""
    row = await locked(uow, user, task_id, None)
    entry_id = uuid.uuid4()
    performed_on = performed_on or _now().date()
    await store.add_time(uow.session, id=entry_id, task_id=task_id, org_id=row.org_id,
                         user_id=user.id, minutes=minutes, action=action,
                         performed_on=performed_on, at=_now(), note=note)
    await record(uow, user, row, "time",
                  {"entry_id": str(entry_id), "minutes": minutes, "time_action": action})
    await uow.emit(TaskTimeLogged(task_id=task_id, entry_id=entry_id, user_id=user.id,
                                  minutes=minutes, action=action, performed_on=performed_on,
                                  task_type=row.task_type, patient_id=row.patient_id),
                   org_id=row.org_id, key=str(task_id))
    return entry_id


async def create_subtask(uow: UnitOfWork, user: User, parent_id: uuid.UUID, *, title: str,
                         task_type: str | None, priority: str | None, due_at: datetime | None,
                         owner_id: str | None, within_parent: bool = True) -> uuid.UUID:
    """Create a sub-task (partOf the parent), stored at once and announced as TaskCreated;
    due no later than the parent unless not ``within_parent`` (a follow-up on a set day)."""
    parent = await locked(uow, user, parent_id, None)
    if owner_id is not None and await directory_store.user_by_id(uow.session, user.org_id, owner_id) is None:
        raise Invalid(f"owner_id: no user {owner_id} in your org")
    sub_id = uuid.uuid4()
    now = _now()
    payload = TaskCreated(
        task_id=sub_id, task_type=task_type or parent.task_type,
        priority=priority or parent.priority, title=title,
        due_at=(due_at or parent.due_at) if not within_parent else min(due_at or parent.due_at,
                                                                       parent.due_at),
        patient_id=parent.patient_id,
        patient_name=parent.patient_name, payer_id=parent.payer_id, payer_name=parent.payer_name,
        payer_class=parent.payer_class, source_kind="Subtask", source_id=str(parent_id),
        source_module=parent.source_module, part_of=parent_id)
    await store.create_from_events(uow.session, [{
        "payload": payload, "org_id": parent.org_id, "at": now, "actor": user.id,
        "owner_id": owner_id, "detail": {"part_of": str(parent_id)}}])
    await record(uow, user, parent, "subtask", {"subtask_id": str(sub_id), "title": title})
    await announce_subtask(uow, payload, owner_id=owner_id, actor_id=user.id,
                           reason="chosen when the sub-task was created", org_id=parent.org_id)
    return sub_id


async def announce_subtask(uow: UnitOfWork, payload: TaskCreated, *, owner_id: str | None,
                           actor_id: str, reason: str, **envelope) -> None:
    """Announce a sub-task stored with its owner: TaskCreated, then TaskAssigned for the
    chosen owner, remembered on the task (routing routes the sub-task too; the chosen owner
    stays). ``envelope``: the events' org_id, or the cause they follow."""
    await uow.emit(payload, key=str(payload.task_id), **envelope)
    if owner_id:
        announced = await uow.emit(TaskAssigned(
            task_id=payload.task_id, owner_id=owner_id, actor_id=actor_id,
            task_type=payload.task_type, reason=reason), key=str(payload.task_id), **envelope)
        await store.note_assignment(uow.session, payload.task_id, announced.event_id)
