"""Source events → tasks under data-driven policies (no I/O)."""
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from common.events.generated import (
    ClaimStatusChanged,
    CosignRequested,
    PayerFollowUpDue,
    PriorAuthDecided,
    ReferralAuthRequested,
    RxRenewalRequested,
    TaskRequested,
)
from common.tests.test_events import denial
from services.intake import domain
from services.intake.domain import DEFAULT_POLICIES, Policy

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
PT = {"patient_id": "PT-1", "patient_name": "DOE, Jane"}
PAYER = {"payer_id": "medicare-b", "payer_name": "Medicare B", "payer_class": "medicare"}


@pytest.mark.parametrize("facts, expected", [
    ({"amount": Decimal("100"), "age_days": 10}, "Low"),
    ({"amount": Decimal("5000.01"), "age_days": 10}, "Routine"),
    ({"amount": Decimal("100"), "age_days": 61}, "Routine"),
    ({"amount": Decimal("10000.01"), "age_days": 10}, "High"),
    ({"amount": Decimal("100"), "age_days": 121}, "High"),
    ({"amount": Decimal("100"), "age_days": 10, "days_to_limit": 30}, "High"),
    ({"amount": Decimal("100"), "age_days": 10, "days_to_limit": 7}, "Urgent"),
])
def test_denial_priority_matrix(facts, expected):
    assert domain.priority_for(facts, DEFAULT_POLICIES["Denial"]) == expected


def test_deadline_is_sla_days_pulled_in_before_a_limit_and_never_past():
    p = DEFAULT_POLICIES["Denial"]
    assert domain.due_at(received_at=NOW, policy=p, limit=None) == NOW + timedelta(days=30)
    assert domain.due_at(received_at=NOW, policy=p, limit=date(2026, 12, 1)) == \
        datetime(2026, 11, 26, 23, 59, 59, tzinfo=UTC)
    assert domain.due_at(received_at=NOW, policy=p, limit=date(2026, 11, 21)) == NOW


def test_an_orgs_own_policy_changes_priority_and_deadline():
    p = denial(amount=Decimal("300"))
    default = domain.task_for("acme", p, received_at=NOW, policies={})
    mine = {"Denial": Policy(sla_days=10, rules=[{"when": {"amount_gt": 250},
                                                   "priority": "Urgent"}])}
    own = domain.task_for("acme", p, received_at=NOW, policies=mine)
    assert (default.priority, default.due_at) == ("Low", NOW + timedelta(days=30))
    assert (own.priority, own.due_at) == ("Urgent", NOW + timedelta(days=10))


def test_the_defaults_are_the_contracts():
    from common import task_policy

    assert set(DEFAULT_POLICIES) == set(task_policy.TASK_TYPES)
    for t, p in task_policy.DEFAULTS.items():
        assert task_policy.check(t, p) == p  # every default passes the contract as it is


def source(kind: str, on: date = NOW.date()):
    """One source event of a kind, its dates relative to the day ``on`` it is received
    (the fixed NOW by default), so the priority and deadline it gets never depend on the
    calendar: a prior auth's appeal is 30 days off (High, not Urgent), a follow-up was
    submitted 80 days before and is due in 5 days."""
    return {
        "PriorAuthDecided": PriorAuthDecided(
            source_id="PA-1", **PT, **PAYER, auth_request_id="AR-1", decision="denied",
            service_description="MRI lumbar spine", cpt_codes=["72148"],
            appeal_deadline=on + timedelta(days=30)),
        "RxRenewalRequested": RxRenewalRequested(
            source_id="RX-1", **PT, drug_name="Oxycodone 5 mg", controlled_substance_schedule="II",
            pharmacy_name="CVS #123", days_supply_left=5),
        "CosignRequested": CosignRequested(
            source_id="CS-1", **PT, document_type="telephone_order", author_id="np-1",
            supervising_physician_id="dr-1"),
        "ReferralAuthRequested": ReferralAuthRequested(
            source_id="RF-1", **PT, **PAYER, referral_id="R-1", specialty="Cardiology",
            referred_to="Heart Center", urgency="urgent"),
        "PayerFollowUpDue": PayerFollowUpDue(
            source_id="FU-1", **PT, **PAYER, claim_id="C-7", amount=Decimal("12500"),
            submitted_on=on - timedelta(days=80), follow_up_on=on + timedelta(days=5)),
        "ClaimStatusChanged": ClaimStatusChanged(
            source_id="CL-1", **PT, **PAYER, claim_id="C-8", status="denied",
            status_code="F2:85", amount=Decimal("900")),
        "TaskRequested": TaskRequested(
            source_id="TR-1", patient_id="PT-1", task_type="Care Coordination",
            title="CCM: Care Plan Monthly REVIEW/CLOSE", priority="High"),
    }[kind]


@pytest.mark.parametrize("kind, task_type, priority", [
    ("PriorAuthDecided", "Prior Auth", "High"),
    ("RxRenewalRequested", "RxRenewal", "High"),
    ("CosignRequested", "Co-sign", "High"),
    ("ReferralAuthRequested", "Referral", "Urgent"),
    ("PayerFollowUpDue", "Follow-up", "High"),
    ("ClaimStatusChanged", "Claim Status", "High"),
    ("TaskRequested", "Care Coordination", "High"),
])
def test_every_source_kind_maps_to_its_task(kind, task_type, priority):
    t = domain.task_for("acme", source(kind), received_at=NOW, policies={})
    assert (t.task_type, t.priority, t.source_kind) == (task_type, priority, kind)
    assert t.task_id == domain.task_id_for("acme", kind, t.source_id)
    assert t.due_at >= NOW and t.title


@pytest.mark.parametrize("received_at", [
    NOW, datetime(2026, 12, 1, 0, 0, tzinfo=UTC), datetime(2027, 6, 30, 23, 59, 59, tzinfo=UTC),
    datetime(2028, 2, 29, 12, 0, tzinfo=UTC), datetime(2031, 1, 1, 0, 0, 1, tzinfo=UTC)])
def test_sources_dated_from_the_day_they_arrive_map_alike_on_any_day(received_at):
    """What the integration tests rely on: an example dated from its arrival gets the same
    priority and deadline whatever the calendar says."""
    day = received_at.date()
    got = {kind: domain.task_for("acme", source(kind, on=day), received_at=received_at, policies={})
           for kind in ("PriorAuthDecided", "RxRenewalRequested", "CosignRequested",
                        "ReferralAuthRequested", "PayerFollowUpDue", "ClaimStatusChanged",
                        "TaskRequested")}
    got["DenialPosted"] = domain.task_for("acme", denial(on=day), received_at=received_at, policies={})
    assert {k: t.priority for k, t in got.items()} == {
        "DenialPosted": "Low", "PriorAuthDecided": "High", "RxRenewalRequested": "High",
        "CosignRequested": "High", "ReferralAuthRequested": "Urgent", "PayerFollowUpDue": "High",
        "ClaimStatusChanged": "High", "TaskRequested": "High"}
    assert got["DenialPosted"].due_at == received_at + timedelta(days=30)
    assert got["PriorAuthDecided"].due_at == received_at + timedelta(days=3)
    assert got["PayerFollowUpDue"].due_at == domain.end_of_day(day + timedelta(days=5))
    # none is due within two days of arriving: no SLA breach while a test watches it
    assert min(t.due_at - received_at for t in got.values()) == timedelta(days=2)  # RxRenewal


def test_explicit_deadlines_are_kept():
    fu = domain.task_for("acme", source("PayerFollowUpDue"), received_at=NOW, policies={})
    assert fu.due_at == datetime(2026, 11, 25, 23, 59, 59, tzinfo=UTC)


def test_a_claim_that_is_neither_denied_nor_stuck_opens_no_task():
    ok = source("ClaimStatusChanged").model_copy(update={"status": "pending", "days_in_status": 3})
    assert domain.task_for("acme", ok, received_at=NOW, policies={}) is None
    stuck = ok.model_copy(update={"days_in_status": 45})
    assert domain.task_for("acme", stuck, received_at=NOW, policies={}).task_type == "Claim Status"


@pytest.mark.parametrize("change, message", [
    ({"claim_id": ""}, "claim_id: must not be empty"),
    ({"amount": Decimal("-5")}, "amount: must not be negative"),
])
def test_invalid_sources_say_why(change, message):
    with pytest.raises(domain.Invalid, match=message):
        domain.task_for("acme", denial(**change), received_at=NOW, policies={})


def test_a_requested_task_of_unknown_type_is_refused():
    bad = source("TaskRequested").model_copy(update={"task_type": "Coffee"})
    with pytest.raises(domain.Invalid, match="task_type: 'Coffee'"):
        domain.task_for("acme", bad, received_at=NOW, policies={})
