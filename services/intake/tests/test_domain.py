from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from common.tests.test_events import denial

from services.intake import domain

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
RULES = domain.PriorityRules()


@pytest.mark.parametrize("amount, age, to_limit, expected", [
    (Decimal("100"), 10, None, "Low"),
    (Decimal("5000.01"), 10, None, "Routine"),
    (Decimal("100"), 61, None, "Routine"),
    (Decimal("10000.01"), 10, None, "High"),
    (Decimal("100"), 121, None, "High"),
    (Decimal("100"), 10, 30, "High"),
    (Decimal("100"), 10, 7, "Urgent"),
    (Decimal("50000"), 200, 3, "Urgent"),
])
def test_priority_matrix(amount, age, to_limit, expected):
    assert domain.priority_for(amount=amount, age_days=age, days_to_limit=to_limit,
                               rules=RULES) == expected


def test_deadline_is_sla_days_after_receipt():
    due = domain.due_at(received_at=NOW, task_type="Denial", limit=None,
                        policy=domain.DEFAULT_POLICY)
    assert due == NOW + timedelta(days=30)


def test_deadline_is_pulled_in_before_the_payers_filing_limit():
    due = domain.due_at(received_at=NOW, task_type="Denial", limit=date(2026, 12, 1),
                        policy=domain.DEFAULT_POLICY)
    assert due == datetime(2026, 11, 26, 23, 59, 59, tzinfo=UTC)


def test_deadline_never_lies_in_the_past():
    due = domain.due_at(received_at=NOW, task_type="Denial", limit=date(2026, 11, 21),
                        policy=domain.DEFAULT_POLICY)
    assert due == NOW


def test_denial_task_carries_source_patient_payer_and_codes():
    p = denial(carc_codes=["CO-50"], rarc_codes=["N386"], cpt_codes=["99214"],
               amount=Decimal("12000"))
    t = domain.denial_task("acme", p, received_at=NOW)
    assert t.task_type == "Denial" and t.priority == "High"
    assert t.task_id == domain.task_id_for("acme", "DenialPosted", p.source_id)
    assert t.title == "Denial CO-50 · Aetna · $12,000.00"
    assert t.reason_codes == ["CO-50", "N386"] and t.cpt_codes == ["99214"]
    assert (t.patient_id, t.payer_id, t.source_id) == ("P-1", "aetna", "D-1")
    assert t.details["claim_id"] == "C-1"


def test_task_ids_are_per_org():
    assert domain.task_id_for("a", "DenialPosted", "1") != domain.task_id_for("b", "DenialPosted", "1")
