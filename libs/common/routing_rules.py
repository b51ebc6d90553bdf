"""The contract of an org's routing rules (carried by RoutingRulesChanged): their shape,
the facts they may test, the defaults a new org gets, and their validation. The gateway
validates before announcing a change; routing applies it."""
from __future__ import annotations

from common import limits
from common import rules as lang

MAX_RULES = 100
MAX_SKILLS = 50
TARGET_KEYS = {"skills", "role", "team", "user", "user_from", "queue", "timeout_s"}
FACTS = {"task_type", "payer_id", "payer_class", "amount", "age_days", "cpt_codes",
         "icd_codes", "reason_codes", "source_module", "priority", "patient_id"}
BILLING = ["Denial", "Follow-up", "Claim Status"]
# Procedures that need a coding specialist (spine fusion, joint replacement, CABG, ...).
COMPLEX_CPT = ["22633", "22612", "27447", "27130", "33533", "63030", "0275T"]

# What a new org gets (the owner's design), in priority order.
DEFAULT_RULES: list[dict] = [
    {"id": "cosign-supervisor", "name": "Co-sign requests go to the supervising physician",
     "when": {"task_type_eq": "Co-sign"},
     "targets": [{"user_from": "supervising_physician_id"}, {"role": "physician"}]},
    {"id": "workers-comp", "name": "Workers' comp denials to a WorkersComp-tagged biller",
     "when": {"task_type_in": BILLING, "payer_class_eq": "workers_comp"},
     "targets": [{"skills": ["WorkersComp"]}]},
    {"id": "high-value", "name": "Claims over $5,000 to a senior biller",
     "when": {"task_type_in": BILLING, "amount_gt": 5000},
     "targets": [{"role": "senior_biller"}, {"skills": ["SeniorBiller"]}]},
    {"id": "government", "name": "Medicare and Medicaid to a government specialist",
     "when": {"task_type_in": BILLING, "payer_class_in": ["medicare", "medicaid"]},
     "targets": [{"skills": ["GovernmentPayers"]}]},
    {"id": "aged", "name": "Older than 90 days to the escalation team",
     "when": {"task_type_in": BILLING, "age_days_gt": 90},
     "targets": [{"team": "escalation"}]},
    {"id": "complex-cpt", "name": "Complex procedures to a coding specialist",
     "when": {"cpt_codes_has": COMPLEX_CPT}, "targets": [{"skills": ["ComplexCoding"]}]},
    {"id": "nurse-tasks", "name": "Prior auths, renewals and referrals to nurses",
     "when": {"task_type_in": ["Prior Auth", "RxRenewal", "Referral"]},
     "targets": [{"role": "nurse"}]},
    {"id": "care-coordination", "name": "Care coordination to care coordinators",
     "when": {"task_type_eq": "Care Coordination"}, "targets": [{"role": "care_coordinator"}]},
    {"id": "general-pool", "name": "Everything else billing: the general pool",
     "when": {"task_type_in": BILLING}, "targets": [{"role": "biller"}]},
]


def check_rules(rules: list[dict], known_skills: set[str] | None = None,
                known_users: set[str] | None = None) -> None:
    """Refuse rules that cannot work, naming the rule and the problem; with the org's
    skills and user ids, refuse a skill nobody has and a user who is not of the org."""
    if not isinstance(rules, list):
        raise lang.RuleError("rules must be a list")
    if len(rules) > MAX_RULES:
        raise lang.RuleError(f"at most {MAX_RULES} rules per org (got {len(rules)})")
    seen: set[str] = set()
    for i, rule in enumerate(rules, 1):
        if not isinstance(rule, dict) or not rule.get("id"):
            raise lang.RuleError(f"rule {i}: needs an 'id'")
        try:
            limits.check_document(rule, where=f"rule {i}")
        except ValueError as exc:
            raise lang.RuleError(str(exc)) from None
        name = f"rule {i} ({str(rule['id'])[:60]})"
        if rule["id"] in seen:
            raise lang.RuleError(f"{name}: the id is used twice")
        seen.add(rule["id"])
        lang.check_conditions(rule.get("when", {}), rule=name, facts=FACTS)
        targets = rule.get("targets")
        if not targets or not isinstance(targets, list):
            raise lang.RuleError(f"{name}: needs 'targets', a list such as [{{\"role\": \"nurse\"}}]")
        for j, t in enumerate(targets):
            if not isinstance(t, dict) or not t or set(t) - TARGET_KEYS:
                raise lang.RuleError(f"{name}: a target has keys among {', '.join(sorted(TARGET_KEYS))}")
            timeout = t.get("timeout_s")
            if timeout is not None and (not isinstance(timeout, int) or not 1 <= timeout <= 604800):
                raise lang.RuleError(f"{name}: timeout_s is whole seconds from 1 to 604800")
            if len(set(t) - {"timeout_s"}) == 0:
                raise lang.RuleError(f"{name}: a target needs more than a timeout")
            if "user" in t:
                user = t["user"]
                if not isinstance(user, str) or not 0 < len(user) <= 64:
                    raise lang.RuleError(f"{name}: targets[{j}].user must be a user id")
                if known_users is not None and user not in known_users:
                    raise lang.RuleError(f"{name}: targets[{j}].user: no user '{user}' in "
                                         "your org")
            for skill in t.get("skills", []):
                if known_skills is not None and skill not in known_skills:
                    raise lang.RuleError(f"{name}: nobody in the org has the skill '{skill}'")
