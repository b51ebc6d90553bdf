"""nba's Prometheus metrics (on the worker's and the API's /metrics)."""
from prometheus_client import Counter, Gauge

DECISIONS = Counter("wq_nba_decisions_total", "Decisions on suggestions, by the suggested action",
                    ["task_type", "action", "decision"])  # accepted, modified, dismissed
OUTCOMES = Counter("wq_nba_outcomes_total", "Task outcomes credited to the chosen action",
                   ["task_type", "action", "outcome"])
ADVICE = Counter("wq_nba_payer_advice_total", "Payer advice learnt from logged interactions",
                 ["task_type", "action"])
SUGGESTED = Counter("wq_nba_suggestions_total", "Suggestions computed", ["exploring"])
CACHE = Counter("wq_nba_cache_total", "Suggestion requests by cache result", ["result"])
# Accepted / decided, from the decision counts in the database (so a restart loses nothing):
# by="overall" (key ""), by="task_type" (key a task type) or by="action" (key an action code).
ACCEPTANCE = Gauge("wq_nba_acceptance_rate", "Share of decided suggestions that were accepted",
                   ["by", "key"])
DECIDED = Gauge("wq_nba_decided", "Decided suggestions behind the acceptance rate", ["by", "key"])


def set_acceptance(rows) -> dict[tuple[str, str], float]:
    """Set the acceptance gauges from (task_type, action, decision, n) rows; return them."""
    totals: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        for key in (("overall", ""), ("task_type", r.task_type), ("action", r.action)):
            t = totals.setdefault(key, [0, 0])
            t[1] += int(r.n)
            if r.decision == "accepted":
                t[0] += int(r.n)
    out = {}
    for (by, key), (acc, n) in totals.items():
        out[(by, key)] = acc / n if n else 0.0
        ACCEPTANCE.labels(by, key).set(out[(by, key)])
        DECIDED.labels(by, key).set(n)
    return out
