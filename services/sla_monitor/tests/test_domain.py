"""SLA clocks without I/O: business calendars, pause and resume, the ladder, policies."""
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from common.sla_policy import BusinessCalendar, SlaPolicy, SlaPolicyError, best_policy, check
from services.sla_monitor import domain
from services.sla_monitor.clock import Clock

UTC9to5 = BusinessCalendar(timezone="UTC", start=time(9), end=time(17), exclude_weekends=True)
NY = BusinessCalendar(timezone="America/New_York", start=time(9), end=time(17),
                      exclude_weekends=True, holidays=(date(2026, 11, 26),))  # Thanksgiving
FRI_4PM = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # a Friday


def test_round_the_clock_is_plain_arithmetic():
    cal = BusinessCalendar()
    t = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    assert domain.add_business(cal, t, 3600) == t + timedelta(hours=1)
    assert domain.business_seconds(cal, t, t + timedelta(days=2)) == 2 * 86400


def test_business_hours_skip_the_night_and_the_weekend():
    # Friday 16:00 + 2 working hours = Monday 10:00
    assert domain.add_business(UTC9to5, FRI_4PM, 2 * 3600) == datetime(2026, 11, 23, 10, tzinfo=UTC)
    # started on Saturday: the clock starts Monday 09:00
    sat = datetime(2026, 11, 21, 12, tzinfo=UTC)
    assert domain.add_business(UTC9to5, sat, 60) == datetime(2026, 11, 23, 9, 1, tzinfo=UTC)
    # the time between counts only working hours
    assert domain.business_seconds(UTC9to5, FRI_4PM, datetime(2026, 11, 23, 10, tzinfo=UTC)) == 7200


def test_holidays_and_time_zones():
    # Wednesday 16:00 New York (21:00 UTC) + 2 working hours: Thursday is Thanksgiving, so
    # Friday 10:00 New York = 15:00 UTC
    wed = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
    assert domain.add_business(NY, wed, 2 * 3600) == datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def test_weekends_excluded_without_business_hours_counts_whole_weekdays():
    cal = BusinessCalendar(exclude_weekends=True)
    assert domain.add_business(cal, FRI_4PM, 10 * 3600) == datetime(2026, 11, 23, 2, tzinfo=UTC)


def test_a_calendar_with_no_working_time_is_refused():
    cal = BusinessCalendar(exclude_weekends=True,
                           holidays=tuple(date(2026, 11, 23) + timedelta(days=i) for i in range(5 * 365)))
    with pytest.raises(ValueError):
        domain.add_business(cal, FRI_4PM + timedelta(days=1), 60)


def test_pause_moves_the_deadline_by_the_working_time_on_hold():
    due = datetime(2026, 11, 23, 12, tzinfo=UTC)  # Monday noon
    paused = datetime(2026, 11, 23, 10, tzinfo=UTC)  # 2 working hours left
    resumed = datetime(2026, 11, 24, 16, tzinfo=UTC)  # Tuesday 16:00
    # 1 hour on Tuesday, 1 on Wednesday from 09:00
    assert domain.resumed_deadline(UTC9to5, due_at=due, paused_at=paused, now=resumed) == \
        datetime(2026, 11, 25, 10, tzinfo=UTC)
    cal = BusinessCalendar()
    assert domain.resumed_deadline(cal, due_at=due, paused_at=paused, now=resumed) == \
        resumed + timedelta(hours=2)
    # paused after the breach: still breached, the ladder moves by the pause
    late = due + timedelta(hours=1)
    assert domain.resumed_deadline(cal, due_at=due, paused_at=late, now=late + timedelta(hours=5)) == \
        due + timedelta(hours=5)


def test_the_ladder():
    due = FRI_4PM
    p = SlaPolicy(id="p", warn_before_hours=4, level2_after_hours=2)
    assert domain.next_step(due_at=due, level=0, warned=False, policy=p) == \
        domain.Step(domain.WARNING, due - timedelta(hours=4))
    assert domain.next_step(due_at=due, level=0, warned=True, policy=p) == domain.Step(domain.LEVEL1, due)
    assert domain.next_step(due_at=due, level=1, warned=True, policy=p) == \
        domain.Step(domain.LEVEL2, due + timedelta(hours=2))
    assert domain.next_step(due_at=due, level=2, warned=True, policy=p) is None
    # no policy: no warning, level 2 a day later
    assert domain.next_step(due_at=due, level=0, warned=False, policy=None) == domain.Step(domain.LEVEL1, due)
    assert domain.next_step(due_at=due, level=1, warned=False, policy=None).at == due + timedelta(days=1)
    # a policy without level 2
    assert domain.next_step(due_at=due, level=1, warned=True,
                            policy=SlaPolicy(id="x", level2_after_hours=None)) is None
    # a warning noticed after the deadline is skipped for level 1
    assert domain.stage_to_fire(domain.WARNING, due_at=due, now=due) == domain.LEVEL1
    assert domain.stage_to_fire(domain.WARNING, due_at=due, now=due - timedelta(seconds=1)) == domain.WARNING


def test_escalation_ids_are_stable_per_rung():
    t = uuid.uuid4()
    assert domain.escalation_id(t, 1, 1) == domain.escalation_id(t, 1, 1)
    assert len({domain.escalation_id(t, b, s) for b in (1, 2) for s in (0, 1, 2)}) == 6


def test_deadline_from_policy_or_from_the_task():
    start = FRI_4PM
    own = start + timedelta(days=3)
    assert domain.deadline(None, started_at=start, task_due_at=own) == own
    assert domain.deadline(SlaPolicy(id="d"), started_at=start, task_due_at=own) == start + timedelta(days=30)
    p = SlaPolicy(id="bh", deadline_hours=2, calendar=UTC9to5)
    assert domain.deadline(p, started_at=start, task_due_at=own) == datetime(2026, 11, 23, 10, tzinfo=UTC)


def test_appeals_and_alert_text_without_patient_data():
    assert domain.is_appeal("Denial", "Appeal submitted")
    assert not domain.is_appeal("Denial", "Escalated")
    assert not domain.is_appeal("Prior Auth", "Appeal submitted")
    tid = uuid.uuid4()
    subject, body = domain.alert_text(task_id=tid, task_type="Denial", stage=2, due_at=FRI_4PM)
    assert str(tid) in body and "org admin" in body and "level 2" in subject


def test_most_specific_policy_wins_and_bad_documents_say_where():
    doc = check({"policies": [
        {"id": "any", "task_type": "*", "deadline_hours": 100},
        {"id": "denials", "task_type": "Denial", "deadline_hours": 50},
        {"id": "aetna", "task_type": "Denial", "payer_id": "aetna", "deadline_hours": 10},
        {"id": "urgent", "task_type": "Denial", "priority": "Urgent", "deadline_hours": 5}]})
    pick = lambda **kw: best_policy(doc.policies, **{"payer_id": None, "priority": None, **kw}).id  # noqa: E731
    assert pick(task_type="Denial", payer_id="aetna", priority="Urgent") == "aetna"
    assert pick(task_type="Denial", priority="Urgent") == "urgent"
    assert pick(task_type="Denial") == "denials"
    assert pick(task_type="Referral") == "any"
    with pytest.raises(SlaPolicyError, match=r"policies\[0\] \('late'\)\.deadline_hours"):
        check({"policies": [{"id": "late", "deadline_hours": -1}]})
    with pytest.raises(SlaPolicyError, match="unknown time zone 'Mars/Olympus'"):
        check({"policies": [{"id": "tz", "calendar": {"timezone": "Mars/Olympus"}}]})
    with pytest.raises(SlaPolicyError, match="apply to the same tasks"):
        check({"policies": [{"id": "a", "task_type": "Denial"}, {"id": "b", "task_type": "Denial"}]})
    with pytest.raises(SlaPolicyError, match="ends_at must be after starts_at"):
        check({"maintenance_windows": [{"id": "w", "starts_at": "2026-12-01T02:00:00Z",
                                        "ends_at": "2026-12-01T01:00:00Z"}]})


def test_the_clock_file_moves_now(tmp_path):
    f = tmp_path / "clock"
    c = Clock(f)
    assert abs((c.now() - datetime.now(UTC)).total_seconds()) < 1
    f.write_text("3600")
    assert abs((c.now() - datetime.now(UTC)).total_seconds() - 3600) < 1
    assert Clock(None).offset() == timedelta()
