"""How a source event becomes a task: type, priority, deadline, title. Plain rules, no I/O."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from common.events.generated import DenialPosted, TaskCreated

TASK_NAMESPACE = uuid.UUID("6f1c2d4e-8a57-4c1b-9b4e-2f0d7f3e5a11")

PRIORITIES = ("Urgent", "High", "Routine", "Low")


@dataclass(frozen=True)
class PriorityRules:
    """Follow-up priority matrix (AR follow-up design): value and age first, then deadlines."""

    high_amount: Decimal = Decimal("10000")
    high_age_days: int = 120
    routine_amount: Decimal = Decimal("5000")
    routine_age_days: int = 60
    urgent_deadline_days: int = 7  # timely-filing/appeal limit this close: drop everything
    high_deadline_days: int = 30


@dataclass(frozen=True)
class IntakePolicy:
    """An org's mapping parameters; defaults until the org sets its own."""

    sla_days: dict[str, int] = field(default_factory=lambda: {"Denial": 30})
    default_sla_days: int = 30
    deadline_margin_days: int = 5  # finish this long before a payer's filing limit
    priority: PriorityRules = PriorityRules()


DEFAULT_POLICY = IntakePolicy()


def task_id_for(org_id: str, source_kind: str, source_id: str) -> uuid.UUID:
    """The same source always maps to the same task id, whichever replica sees it."""
    return uuid.uuid5(TASK_NAMESPACE, f"{org_id}/{source_kind}/{source_id}")


def end_of_day(d: date) -> datetime:
    return datetime.combine(d, time(23, 59, 59), tzinfo=UTC)


def priority_for(*, amount: Decimal | None, age_days: int, days_to_limit: int | None,
                 rules: PriorityRules) -> str:
    if days_to_limit is not None and days_to_limit <= rules.urgent_deadline_days:
        return "Urgent"
    if (amount is not None and amount > rules.high_amount) or age_days > rules.high_age_days \
            or (days_to_limit is not None and days_to_limit <= rules.high_deadline_days):
        return "High"
    if (amount is not None and amount > rules.routine_amount) or age_days > rules.routine_age_days:
        return "Routine"
    return "Low"


def due_at(*, received_at: datetime, task_type: str, limit: date | None,
           policy: IntakePolicy) -> datetime:
    """SLA deadline: received + the type's SLA days, pulled in before a payer's limit."""
    due = received_at + timedelta(days=policy.sla_days.get(task_type, policy.default_sla_days))
    if limit is not None:
        before_limit = end_of_day(limit - timedelta(days=policy.deadline_margin_days))
        due = max(min(due, before_limit), received_at)
    return due


def money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def denial_task(org_id: str, p: DenialPosted, *, received_at: datetime,
                policy: IntakePolicy = DEFAULT_POLICY) -> TaskCreated:
    """A Denial task for a posted denial."""
    today = received_at.date()
    limit = p.timely_filing_deadline
    codes = ", ".join(p.carc_codes) or "no reason code"
    return TaskCreated(
        task_id=task_id_for(org_id, "DenialPosted", p.source_id),
        task_type="Denial",
        priority=priority_for(
            amount=p.amount, age_days=(today - p.service_date).days,
            days_to_limit=(limit - today).days if limit else None, rules=policy.priority),
        title=f"Denial {codes} · {p.payer_name} · {money(p.amount)}",
        description=f"Claim {p.claim_id} denied on {p.denied_on.isoformat()}",
        due_at=due_at(received_at=received_at, task_type="Denial", limit=limit, policy=policy),
        patient_id=p.patient_id,
        patient_name=p.patient_name,
        payer_id=p.payer_id,
        payer_name=p.payer_name,
        payer_class=p.payer_class,
        amount=p.amount,
        reason_codes=list(p.carc_codes) + list(p.rarc_codes),
        cpt_codes=list(p.cpt_codes),
        icd_codes=list(p.icd_codes),
        source_kind="DenialPosted",
        source_id=p.source_id,
        source_module=p.source_module,
        details={"claim_id": p.claim_id, "service_date": p.service_date.isoformat(),
                 **({"timely_filing_deadline": limit.isoformat()} if limit else {})},
    )
