"""Intake's handlers: each source event becomes exactly one task (or, by policy, none)."""
from __future__ import annotations

import json
import uuid
from dataclasses import asdict

from common import logs, task_policy
from common.events import Envelope
from common.events.generated import OrgRegistered, TaskPolicyChanged
from common.uow import UnitOfWork
from services.intake import domain, store

log = logs.get(__name__)


def policy_of(stored: dict) -> domain.Policy:
    return domain.Policy(**stored)


async def source_event(batch: list[Envelope], uow: UnitOfWork) -> list[uuid.UUID | None]:
    """Open the task each source event calls for; a replayed source changes nothing.
    Returns each event's new task id, or None (a replay, or no task by policy)."""
    orgs = {e.org_id for e in batch}
    known = await store.known_orgs(uow.session, orgs)
    stored = await store.policies_for(uow.session, known)
    tasks = []
    for e in batch:
        if e.org_id not in known:
            raise domain.Invalid(f"org_id: unknown org '{e.org_id}' (orgs are onboarded in "
                                 "the gateway before they send events)")
        policies = {t: policy_of(p) for t, p in stored[e.org_id].items()}
        tasks.append(domain.task_for(e.org_id, e.payload, received_at=e.occurred_at,
                                     policies=policies))
    fresh = await store.record_sources(uow.session, [
        {"org_id": e.org_id, "source_kind": e.event_type, "source_id": e.payload.source_id,
         "event_id": e.event_id, "task_id": t.task_id if t else None}
        for e, t in zip(batch, tasks, strict=True)])
    out: list[uuid.UUID | None] = []
    for e, t in zip(batch, tasks, strict=True):
        key = (e.org_id, e.event_type, e.payload.source_id)
        if t is not None and key in fresh:
            fresh.discard(key)
            await uow.emit(t, cause=e, key=str(t.task_id))
            out.append(t.task_id)
        else:
            fresh.discard(key)
            out.append(None)
    return out


async def org_registered(batch: list[Envelope[OrgRegistered]], uow: UnitOfWork) -> None:
    """Learn the orgs the gateway onboards."""
    await store.register_orgs(uow.session, [{"org_id": e.payload.org_id, "name": e.payload.name}
                                            for e in batch])


async def task_policy_changed(batch: list[Envelope[TaskPolicyChanged]], uow: UnitOfWork) -> None:
    """Apply a policy a manager changed in the gateway to the next source event; an older
    version arriving late changes nothing. A policy that does not pass the contract is
    refused (dead-lettered): a bad one never replaces a good one."""
    latest: dict[tuple[str, str], Envelope[TaskPolicyChanged]] = {}
    for e in batch:
        key = (e.org_id, e.payload.task_type)
        if key not in latest or latest[key].payload.version < e.payload.version:
            latest[key] = e
    rows = []
    for (org, task_type), e in latest.items():
        try:
            policy = task_policy.check(task_type, json.loads(e.payload.policy_json))
        except (ValueError, TypeError) as exc:  # TaskPolicyError and bad JSON alike
            raise domain.Invalid(f"policy_json: {exc}") from None
        rows.append({"org_id": org, "task_type": task_type, "version": e.payload.version,
                     "policy": policy})
    applied = await store.apply_policies(uow.session, rows)
    log.info("task_policies_applied", received=len(batch), applied=applied)


HANDLERS = {model: source_event for model in domain.SOURCE_MODELS}
DIRECTORY_HANDLERS = {OrgRegistered: org_registered, TaskPolicyChanged: task_policy_changed}
DEFAULTS = {t: asdict(p) for t, p in domain.DEFAULT_POLICIES.items()}
