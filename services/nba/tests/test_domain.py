"""The playbook and the policy without I/O: real CARC/RARC meanings, backoff from payer to
class to prior, exploration bounded and shown, reasons that quote their evidence."""
import random
from collections import Counter

import pytest

from common.nba_actions import ACTIONS
from services.nba import domain, playbook
from services.nba.domain import Facts, Stat


def denial(*codes, payer="aetna", payer_class="commercial", **kw) -> Facts:
    return Facts("Denial", payer_id=payer, payer_name=payer.title(), payer_class=payer_class,
                 reason_codes=codes, **kw)


def test_every_playbook_action_is_in_the_catalogue_and_priors_are_rates():
    entries = [*playbook.CARC.values(), playbook.UNKNOWN_DENIAL, *playbook.TASK_TYPES.values()]
    for e in entries:
        assert e.actions and e.meaning and e.category
        for a, p in e.actions.items():
            assert a in ACTIONS and 0 < p < 1
    for r in playbook.RARC.values():
        assert set(r.weights) | set(r.add) <= set(ACTIONS)


@pytest.mark.parametrize("code,best", [
    ("CO-197", "retro_auth"), ("CO-50", "appeal_with_records"), ("CO-16", "corrected_claim"),
    ("CO-29", "write_off_contractual"), ("CO-18", "close_duplicate"),
    ("CO-27", "verify_eligibility"), ("CO-45", "write_off_contractual"), ("PR-1", "bill_patient"),
    ("CO-252", "collect_records"), ("CO-22", "bill_other_payer"),
])
def test_the_table_starts_from_domain_knowledge(code, best):
    assert domain.table_choice(denial(code)) == best


def test_codes_parse_with_or_without_group_and_rarcs_refine():
    assert domain.parse_codes(["CO-197", "N290"]) == ("CO", "197", ["N290"])
    assert domain.parse_codes(["50"]) == (None, "50", [])
    assert domain.parse_codes(["MA130", "PR-96"]) == ("PR", "96", ["MA130"])
    # MA130: unprocessable, no appeal rights → a corrected claim, not an appeal.
    assert domain.table_choice(denial("CO-16", "MA130")) == "corrected_claim"
    ctx = domain.context_of(denial("CO-16", "M127"))
    assert ctx.priors["collect_records"] > playbook.CARC["16"].actions["collect_records"]


def test_unknown_codes_and_other_task_types():
    assert domain.table_choice(denial("CO-999")) == "call_payer"
    assert domain.table_choice(Facts("RxRenewal")) == "send_to_prescriber"
    assert domain.context_of(Facts("Something else")) is None


def test_backoff_payer_then_class_then_prior():
    prior = 0.5
    b = domain.posterior("a", prior, Stat(), Stat())
    assert b.mean == pytest.approx(0.5) and b.level == "table"
    # The class's outcomes move the mean (this payer has none yet).
    b = domain.posterior("a", prior, Stat(18, 2), Stat())
    assert b.level == "class" and b.mean == pytest.approx((4 * 0.5 + 18) / (4 + 20))
    # The payer's own outcomes take over from the class mean; the class count excludes them.
    b = domain.posterior("a", prior, Stat(18, 12), Stat(0, 10))
    assert b.level == "payer" and b.klass == Stat(18, 2)
    assert b.mean < 0.4  # the payer's 0 of 10 outweighs its class's 18 of 20


def test_learnt_evidence_changes_the_choice_and_the_reason_says_whose():
    f = denial("CO-50", payer="cigna")
    ctx = domain.context_of(f)
    rng = random.Random(1)
    payer = {"peer_to_peer": Stat(14, 4), "appeal_with_records": Stat(2, 9)}
    ch = domain.choose(ctx, f, payer, payer, rng, explore_rate=0)
    assert ch.action == "peer_to_peer" and not ch.exploring and ch.evidence == "payer"
    assert ch.reason.startswith("Cigna resolved 14 of 18 CARC 50 cases")
    assert 0.6 < ch.confidence < 0.8


def test_exploration_is_bounded_visible_and_fades_with_evidence():
    f = denial("CO-50")
    ctx = domain.context_of(f)
    rng = random.Random(7)
    picks = [domain.choose(ctx, f, {}, {}, rng, explore_rate=0.15) for _ in range(4000)]
    share = sum(c.exploring for c in picks) / len(picks)
    assert 0.02 < share <= 0.15
    assert all(c.reason.startswith("Exploring") for c in picks if c.exploring)
    assert all(c.action == "appeal_with_records" for c in picks if not c.exploring)
    # With strong evidence the draws agree with the best-known action almost always.
    sure = {"appeal_with_records": Stat(300, 100), "peer_to_peer": Stat(100, 300),
            "collect_records": Stat(50, 350)}
    picks = [domain.choose(ctx, f, sure, sure, rng, explore_rate=0.15) for _ in range(2000)]
    assert sum(c.exploring for c in picks) / len(picks) < 0.01
    assert domain.choose(ctx, f, {}, {}, rng, explore_rate=0).exploring is False


def test_an_action_tried_on_the_task_ranks_lower_and_says_so():
    f = denial("CO-50", tried=("appeal_with_records",))
    ch = domain.choose(domain.context_of(f), f, {}, {}, random.Random(0), explore_rate=0)
    assert ch.action == "peer_to_peer"


def test_thompson_concentrates_on_the_best_action_in_a_small_simulation():
    rng = random.Random(3)
    truth = {"appeal_with_records": 0.3, "peer_to_peer": 0.8, "collect_records": 0.2}
    f = denial("CO-50")
    ctx = domain.context_of(f)
    stats = {a: [0, 0] for a in truth}
    late = Counter()
    for i in range(400):
        s = {a: Stat(*v) for a, v in stats.items()}
        ch = domain.choose(ctx, f, s, s, rng, explore_rate=0.15)
        good = rng.random() < truth[ch.action]
        stats[ch.action][0 if good else 1] += 1
        if i >= 300:
            late[ch.action] += 1
    assert late["peer_to_peer"] >= 85


def test_acceptance_rate_overall_by_task_type_and_by_action():
    from types import SimpleNamespace as Row

    from services.nba import metrics

    rows = [Row(task_type="Denial", action="retro_auth", decision="accepted", n=6),
            Row(task_type="Denial", action="retro_auth", decision="dismissed", n=2),
            Row(task_type="Denial", action="peer_to_peer", decision="modified", n=2),
            Row(task_type="Prior Auth", action="peer_to_peer", decision="accepted", n=10)]
    got = metrics.set_acceptance(rows)
    assert got[("overall", "")] == pytest.approx(16 / 20)
    assert got[("task_type", "Denial")] == pytest.approx(6 / 10)
    assert got[("action", "peer_to_peer")] == pytest.approx(10 / 12)
    assert metrics.ACCEPTANCE.labels("action", "retro_auth")._value.get() == pytest.approx(0.75)


def test_the_reason_names_the_remark_code_that_chose_the_step():
    f = denial("CO-50", "N290")
    ctx = domain.context_of(f)
    c = domain.choose(ctx, f, {}, {}, random.Random(1), explore_rate=0)
    assert c.action == "corrected_claim"
    assert c.reason.startswith("CARC 50 with RARC N290 (Missing/incomplete/invalid rendering "
                               "provider primary..."), c.reason
    plain = domain.choose(domain.context_of(denial("CO-50")), denial("CO-50"), {}, {},
                          random.Random(1), explore_rate=0)
    assert plain.action == "appeal_with_records" and "the usual first step" in plain.reason
