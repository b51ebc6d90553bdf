"""Routing decisions, without I/O: each default rule, the fallback, fairness, capacity."""
import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from common import rules as lang
from common.events.generated import TaskCreated
from common.routing_rules import DEFAULT_RULES, check_rules
from services.routing.domain import Staff, decide

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def task(**kw) -> TaskCreated:
    base = dict(task_id="6f1c2d4e-8a57-4c1b-9b4e-2f0d7f3e5a11", task_type="Denial",
                priority="Routine", title="t", due_at=NOW + timedelta(days=30),
                source_kind="DenialPosted", source_id="D-1", source_module="RCM",
                payer_class="commercial", amount=Decimal("300"),
                details={"service_date": (NOW.date() - timedelta(days=20)).isoformat()})
    return TaskCreated(**{**base, **kw})


def person(uid, roles=("biller",), skills=(), capacity=40, active=0, away=False):
    return Staff(uid, frozenset(roles), frozenset(skills), capacity, active, away)


TEAM = [
    person("senior", ("senior_biller",), ["SeniorBiller"]),
    person("gov", ("biller",), ["GovernmentPayers", "medicare"]),
    person("wc", ("biller",), ["WorkersComp"]),
    person("esc", ("biller",), ["EscalationTeam"]),
    person("coder", ("biller",), ["ComplexCoding"]),
    person("nurse", ("nurse",)),
    person("dr-1", ("physician",)),
    person("dr-2", ("physician",)),
    person("ccm", ("care_coordinator",)),
    person("pool-1"), person("pool-2"),
]


@pytest.mark.parametrize("kw, owner, rule", [
    ({"amount": Decimal("7500")}, "senior", "high-value"),
    ({"payer_class": "medicare"}, "gov", "government"),
    ({"payer_class": "workers_comp", "amount": Decimal("9000")}, "wc", "workers-comp"),
    ({"details": {"service_date": date(2026, 6, 1).isoformat()}}, "esc", "aged"),
    ({"task_type": "Prior Auth", "cpt_codes": ["27447"]}, "coder", "complex-cpt"),
    ({"task_type": "RxRenewal"}, "nurse", "nurse-tasks"),
    ({"task_type": "Co-sign", "details": {"supervising_physician_id": "dr-2"}}, "dr-2",
     "cosign-supervisor"),
    ({"task_type": "Care Coordination"}, "ccm", "care-coordination"),
    ({}, None, "general-pool"),  # any biller (specialists are billers too)
])
def test_each_default_rule(kw, owner, rule):
    team = [dataclasses.replace(p) for p in TEAM]
    d = decide(task(**kw), DEFAULT_RULES, team, now=NOW)
    assert d.rule_id == rule, d.reason
    if owner:
        assert d.owner_id == owner and d.candidates[0]["user_id"] == owner
    else:
        assert "biller" in next(p for p in team if p.user_id == d.owner_id).roles


def test_nobody_matching_or_available_falls_back_to_the_default_queue():
    d = decide(task(task_type="RxRenewal"), DEFAULT_RULES, [person("pool-1")], now=NOW)
    assert (d.queue, d.owner_id, d.rule_id) == ("default", None, None)
    assert "default queue" in d.reason
    away = decide(task(task_type="RxRenewal"), DEFAULT_RULES,
                  [person("n", ("nurse",), away=True), person("m", ("nurse",), capacity=1, active=1)],
                  now=NOW)
    assert away.owner_id is None


def test_the_next_target_when_the_first_has_nobody():
    d = decide(task(task_type="Co-sign", details={"supervising_physician_id": "dr-9"}),
               DEFAULT_RULES, [person("dr-1", ("physician",))], now=NOW)
    assert d.owner_id == "dr-1"


def test_fewest_active_tasks_then_least_recently_assigned():
    staff = [person("a", active=3), person("b", active=1), person("c", active=1)]
    staff[1].last_assigned, staff[2].last_assigned = 200.0, 100.0
    assert decide(task(), DEFAULT_RULES, staff, now=NOW).owner_id == "c"


def test_the_best_skill_match_wins_over_a_lighter_load():
    staff = [person("light", active=0), person("fit", skills=["commercial", "Denial"], active=5)]
    assert decide(task(), DEFAULT_RULES, staff, now=NOW).owner_id == "fit"


@pytest.mark.parametrize("rules, message", [
    ([{"id": "x", "when": {"amount_over": 5}, "targets": [{"role": "biller"}]}], "rule 1 \\(x\\): 'amount_over'"),
    ([{"id": "x", "when": {"colour_eq": "red"}, "targets": [{"role": "biller"}]}], "unknown fact 'colour'"),
    ([{"id": "x", "when": {}}], "rule 1 \\(x\\): needs 'targets'"),
    ([{"id": "x", "when": {}, "targets": [{"skills": ["Klingon"]}]}], "nobody in the org has the skill 'Klingon'"),
    ([{"id": "x", "targets": [{"role": "b"}]}, {"id": "x", "targets": [{"role": "b"}]}], "rule 2 \\(x\\): the id is used twice"),
])
def test_a_bad_rule_is_refused_naming_the_rule(rules, message):
    with pytest.raises(lang.RuleError, match=message):
        check_rules(rules, known_skills={"SeniorBiller"})


def test_the_default_rules_are_valid():
    check_rules(DEFAULT_RULES)


def test_an_expired_offer_resumes_at_the_next_target_without_who_had_it():
    rules = [{"id": "r", "when": {"task_type_eq": "Denial"},
              "targets": [{"role": "senior_biller", "timeout_s": 60}, {"role": "biller"}]}]
    staff = [person("s1", ("senior_biller",)), person("s2", ("senior_biller",)), person("b1")]
    first = decide(task(), rules, staff, now=NOW)
    assert (first.owner_id, first.position, first.timeout_s) == ("s1", (0, 0), 60)
    nxt = decide(task(), rules, staff, now=NOW, after=first.position, exclude=frozenset({"s1"}))
    assert (nxt.owner_id, nxt.position, nxt.timeout_s) == ("b1", (0, 1), None)
    done = decide(task(), rules, staff, now=NOW, after=nxt.position,
                  exclude=frozenset({"s1", "b1"}))
    assert (done.owner_id, done.queue) == (None, "default")


def test_a_timeout_must_be_whole_seconds_and_not_alone():
    with pytest.raises(lang.RuleError, match="timeout_s is whole seconds"):
        check_rules([{"id": "t", "targets": [{"role": "biller", "timeout_s": 0.5}]}])
    with pytest.raises(lang.RuleError, match="more than a timeout"):
        check_rules([{"id": "t", "targets": [{"timeout_s": 5}]}])
