"""How a source event becomes a task. Each source kind yields *facts* (code: every schema
differs); what the facts mean, priority, deadline and whether to open a task at all, is
*policy*: data an org can change without a deploy (``common.task_policy.DEFAULTS``, overridden per
org in the task_policy table). No I/O here."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from common import limits, task_policy
from common import rules as rules_lang
from common.events.generated import (
    ClaimStatusChanged,
    CosignRequested,
    DenialPosted,
    PayerFollowUpDue,
    PriorAuthDecided,
    ReferralAuthRequested,
    RxRenewalRequested,
    TaskCreated,
    TaskRequested,
)

# A title or description composed from many source fields (fifty reason codes, a long
# payer name) is cut to what a TaskCreated carries rather than refused.
TITLE_MAX = limits.max_length(TaskCreated, "title")
DESCRIPTION_MAX = limits.max_length(TaskCreated, "description")
TASK_NAMESPACE = uuid.UUID("6f1c2d4e-8a57-4c1b-9b4e-2f0d7f3e5a11")
PRIORITIES = task_policy.PRIORITIES
TASK_TYPES = task_policy.TASK_TYPES


class Invalid(ValueError):
    """The event is well-formed but cannot become a task; the message says why (it names
    fields and codes, never a patient's data, so it may be logged and dead-lettered)."""

    safe_message = True


@dataclass(frozen=True)
class Policy:
    """What an org wants for one task type. Rules are tried in order; the first whose
    conditions all hold gives the priority (a rule's ``when`` may be a list: any of them)."""

    sla_days: int = 30
    rules: list[dict] = field(default_factory=list)
    default_priority: str = "Routine"
    open_when: Any = None  # conditions to open a task at all (None: always)
    deadline_margin_days: int = 5  # finish this long before a payer's limit


# The defaults are part of the contract (``common.task_policy``): the gateway shows them.
DEFAULT_POLICIES: dict[str, Policy] = {t: Policy(**p) for t, p in task_policy.DEFAULTS.items()}


holds = rules_lang.holds


def priority_for(facts: dict, policy: Policy) -> str:
    for rule in policy.rules:
        if holds(rule.get("when", {}), facts):
            return rule["priority"]
    return policy.default_priority


def end_of_day(d: date) -> datetime:
    return datetime.combine(d, time(23, 59, 59), tzinfo=UTC)


def due_at(*, received_at: datetime, policy: Policy, limit: date | None,
           explicit: datetime | None = None) -> datetime:
    """The SLA deadline: explicit if the source set one, else received + SLA days; pulled in
    before a payer's limit; never in the past."""
    due = explicit or received_at + timedelta(days=policy.sla_days)
    if limit is not None:
        due = min(due, end_of_day(limit - timedelta(days=policy.deadline_margin_days)))
    return max(due, received_at)


def task_id_for(org_id: str, source_kind: str, source_id: str) -> uuid.UUID:
    """The same source always maps to the same task id, whichever replica sees it."""
    return uuid.uuid5(TASK_NAMESPACE, f"{org_id}/{source_kind}/{source_id}")


def money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def _required(p: BaseModel, *names: str) -> None:
    for n in names:
        v = getattr(p, n)
        if v is None or (isinstance(v, str) and not v.strip()):
            raise Invalid(f"{n}: must not be empty")
    amount = getattr(p, "amount", None)
    if amount is not None and amount < 0:
        raise Invalid(f"amount: must not be negative (got {amount})")


@dataclass
class Facts:
    task_type: str
    title: str
    values: dict  # what the rules see
    limit: date | None = None
    description: str | None = None
    explicit_due: datetime | None = None
    explicit_priority: str | None = None
    details: dict = field(default_factory=dict)
    codes: tuple[list, list, list] = ([], [], [])  # reason, cpt, icd


def facts_of(p: BaseModel, today: date) -> Facts:
    """What a source event says, in the terms the rules use."""
    if isinstance(p, DenialPosted):
        _required(p, "source_id", "claim_id", "payer_id", "patient_id")
        codes = ", ".join(p.carc_codes) or "no reason code"
        return Facts("Denial", f"Denial {codes} · {p.payer_name} · {money(p.amount)}",
                     {"amount": p.amount, "age_days": (today - p.service_date).days},
                     p.timely_filing_deadline,
                     f"Claim {p.claim_id} denied on {p.denied_on.isoformat()}",
                     details={"claim_id": p.claim_id, "service_date": p.service_date.isoformat()},
                     codes=(list(p.carc_codes) + list(p.rarc_codes), list(p.cpt_codes),
                            list(p.icd_codes)))
    if isinstance(p, PriorAuthDecided):
        _required(p, "source_id", "auth_request_id", "payer_id", "patient_id")
        return Facts("Prior Auth", f"Prior auth {p.decision.replace('_', ' ')} · "
                     f"{p.service_description} · {p.payer_name}",
                     {"decision": p.decision}, p.appeal_deadline, p.denial_reason,
                     details={"auth_request_id": p.auth_request_id, "decision": p.decision},
                     codes=([], list(p.cpt_codes), list(p.icd_codes)))
    if isinstance(p, RxRenewalRequested):
        _required(p, "source_id", "drug_name", "patient_id")
        return Facts("RxRenewal", f"Rx renewal · {p.drug_name} · {p.pharmacy_name}",
                     {"controlled": p.controlled_substance_schedule is not None,
                      "days_supply_left": p.days_supply_left},
                     details={"drug_name": p.drug_name, "pharmacy": p.pharmacy_name,
                              **({"schedule": p.controlled_substance_schedule}
                                 if p.controlled_substance_schedule else {}),
                              **({"prescriber_id": p.prescriber_id} if p.prescriber_id else {})})
    if isinstance(p, CosignRequested):
        _required(p, "source_id", "supervising_physician_id", "patient_id")
        kind = p.document_type.replace("_", " ")
        when = f" ({p.encounter_date.isoformat()})" if p.encounter_date else ""
        return Facts("Co-sign", f"Co-sign {kind}{when}", {"document_type": p.document_type},
                     details={"document_type": p.document_type, "author_id": p.author_id,
                              "supervising_physician_id": p.supervising_physician_id})
    if isinstance(p, ReferralAuthRequested):
        _required(p, "source_id", "referral_id", "payer_id", "patient_id")
        return Facts("Referral", f"Referral auth · {p.specialty} · {p.referred_to}",
                     {"urgency": p.urgency}, p.needed_by,
                     details={"referral_id": p.referral_id, "specialty": p.specialty,
                              "referred_to": p.referred_to}, codes=([], [], list(p.icd_codes)))
    if isinstance(p, PayerFollowUpDue):
        _required(p, "source_id", "claim_id", "payer_id", "patient_id")
        return Facts("Follow-up", f"Follow up · claim {p.claim_id} · {p.payer_name} · "
                     f"{money(p.amount)}",
                     {"amount": p.amount, "age_days": (today - p.submitted_on).days,
                      "attempt": p.attempt}, p.timely_filing_deadline,
                     f"Attempt {p.attempt}; submitted {p.submitted_on.isoformat()}",
                     explicit_due=end_of_day(p.follow_up_on),
                     details={"claim_id": p.claim_id, "attempt": str(p.attempt)})
    if isinstance(p, ClaimStatusChanged):
        _required(p, "source_id", "claim_id", "payer_id", "patient_id")
        return Facts("Claim Status", f"Claim {p.claim_id} {p.status} · {p.payer_name}",
                     {"status": p.status, "days_in_status": p.days_in_status,
                      "amount": p.amount},
                     description=f"{p.status} for {p.days_in_status} days"
                     + (f" ({p.status_code})" if p.status_code else ""),
                     details={"claim_id": p.claim_id, "claim_status": p.status,
                              **({"status_code": p.status_code} if p.status_code else {})})
    if isinstance(p, TaskRequested):
        _required(p, "source_id", "title")
        if p.task_type not in TASK_TYPES:
            raise Invalid(f"task_type: '{p.task_type}' is not one of {', '.join(TASK_TYPES)}")
        if p.priority is not None and p.priority not in PRIORITIES:
            raise Invalid(f"priority: '{p.priority}' is not one of {', '.join(PRIORITIES)}")
        return Facts(p.task_type, p.title, {}, description=p.description,
                     explicit_due=p.due_at, explicit_priority=p.priority,
                     details={**p.details, **({"assignee_id": p.assignee_id}
                                              if p.assignee_id else {})})
    raise Invalid(f"{type(p).__name__} is not a source event intake maps")


def task_for(org_id: str, p: BaseModel, *, received_at: datetime,
             policies: dict[str, Policy]) -> TaskCreated | None:
    """The task a source event opens under the org's policies, or None if it opens none."""
    f = facts_of(p, received_at.date())
    policy = policies.get(f.task_type) or DEFAULT_POLICIES[f.task_type]
    values = dict(f.values)
    if f.limit is not None:
        values["days_to_limit"] = (f.limit - received_at.date()).days
    if policy.open_when is not None and not holds(policy.open_when, values):
        return None
    kind = type(p).__name__
    reason, cpt, icd = f.codes
    return TaskCreated(
        task_id=task_id_for(org_id, kind, p.source_id),
        task_type=f.task_type,
        priority=f.explicit_priority or priority_for(values, policy),
        title=limits.clip(f.title, TITLE_MAX),
        description=limits.clip(f.description, DESCRIPTION_MAX) if f.description else None,
        due_at=due_at(received_at=received_at, policy=policy, limit=f.limit,
                      explicit=f.explicit_due),
        patient_id=getattr(p, "patient_id", None),
        patient_name=getattr(p, "patient_name", None),
        payer_id=getattr(p, "payer_id", None),
        payer_name=getattr(p, "payer_name", None),
        payer_class=getattr(p, "payer_class", None),
        amount=getattr(p, "amount", None),
        reason_codes=reason, cpt_codes=cpt, icd_codes=icd,
        source_kind=kind, source_id=p.source_id, source_module=p.source_module,
        details={k: str(v) for k, v in {
            **f.details, **({"limit": f.limit.isoformat()} if f.limit else {})}.items()},
    )


SOURCE_MODELS = (DenialPosted, PriorAuthDecided, RxRenewalRequested, CosignRequested,
                 ReferralAuthRequested, PayerFollowUpDue, ClaimStatusChanged, TaskRequested)
