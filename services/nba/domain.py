"""How nba picks a next step: the task's context, Beta posteriors that back off from
(payer, code) to (payer class, reason category) to the playbook's prior, and Thompson
sampling under a cap so exploration stays bounded and is shown. No I/O."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime

from common.nba_actions import ACTIONS, label
from services.nba import playbook
from services.nba.playbook import Entry

# The playbook's prior counts as this many observations at the class level...
PRIOR_STRENGTH = 4.0
# ...and the class level's mean as this many at the payer level (how fast a payer's own
# outcomes take over from its class: after ~3x this many, mostly the payer's own).
CLASS_STRENGTH = 6.0
# Outcomes needed at a level before the reason quotes it.
MIN_EVIDENCE = 3
# What a payer's own people said to do (the next step of a logged call, SMS or e-mail):
# each time counts as ADVICE_WEIGHT successes for that action at that payer and code, up
# to ADVICE_CAP times; an action the table does not list for the code becomes plausible
# there with ADVISED_PRIOR. Outcomes still decide in the end: advice that does not work
# is outweighed by its failures.
ADVICE_WEIGHT = 2.0
ADVICE_CAP = 5
ADVISED_PRIOR = 0.4
# An action already tried on this task (and the task is still open) ranks lower.
TRIED_PENALTY = 0.5

_CARC = re.compile(r"^(CO|PR|OA|PI|CR)?-?([A-Z]?\d{1,3}[A-Z]?)$")
_RARC = re.compile(r"^(M|N|MA)\d{1,3}$")


@dataclass(frozen=True)
class Facts:
    """What nba knows of a task when it suggests."""
    task_type: str
    payer_id: str | None = None
    payer_name: str | None = None
    payer_class: str | None = None
    reason_codes: tuple[str, ...] = ()
    due_at: datetime | None = None
    tried: tuple[str, ...] = ()


@dataclass(frozen=True)
class Context:
    """Which playbook entry applies and which statistics scopes count."""
    key: str  # "CARC 197" or the task type
    entry: Entry
    priors: dict[str, float]
    payer_scope: str  # level 1: payer and code
    class_scope: str  # level 2: payer class and reason category
    group: str | None = None
    # action → the remark code that made it likelier than the CARC alone (for the reason)
    because: dict[str, str] = field(default_factory=dict)


def parse_codes(codes) -> tuple[str | None, str | None, list[str]]:
    """(group, CARC, RARCs) from codes like 'CO-197', '50', 'N290'; the first CARC is primary."""
    group = carc = None
    rarcs: list[str] = []
    for raw in codes:
        c = raw.strip().upper()
        if c in playbook.RARC or _RARC.match(c):
            rarcs.append(c)
            continue
        m = _CARC.match(c)
        if m and carc is None:
            group, carc = m.group(1), m.group(2)
    return group, carc, rarcs


def context_of(f: Facts) -> Context | None:
    """The playbook entry and statistics scopes for a task; None when nba has nothing to say."""
    if f.task_type == "Denial":
        group, carc, rarcs = parse_codes(f.reason_codes)
        entry = playbook.CARC.get(carc or "", playbook.UNKNOWN_DENIAL)
        key = f"CARC {carc}" if carc else "CARC ?"
        priors = dict(entry.actions)
        because: dict[str, str] = {}
        for r in rarcs:
            remark = playbook.RARC.get(r)
            if remark is None:
                continue
            for a, p in remark.add.items():
                priors[a] = max(priors.get(a, 0.0), p)
            for a, w in remark.weights.items():
                if a in priors:
                    priors[a] = min(0.95, priors[a] * w)
            for a in {*remark.add, *(a for a, w in remark.weights.items() if w > 1)}:
                because.setdefault(a, f"RARC {r} ({_short(remark.meaning)})")
        if group == "PR" and entry.category != "patient_responsibility":
            priors["bill_patient"] = max(priors.get("bill_patient", 0.0), 0.5)
            because.setdefault("bill_patient", "group PR (patient responsibility)")
    else:
        entry = playbook.TASK_TYPES.get(f.task_type)
        if entry is None:
            return None
        key, group, priors = f.task_type, None, dict(entry.actions)
        because = {}
    return Context(key=key, entry=entry, priors=priors, group=group, because=because,
                   payer_scope=f"{f.payer_id or '-'}|{key}",
                   class_scope=f"{f.payer_class or '-'}|{entry.category}")


@dataclass(frozen=True)
class Stat:
    successes: int = 0
    failures: int = 0

    @property
    def n(self) -> int:
        return self.successes + self.failures


@dataclass(frozen=True)
class Belief:
    """Beta(alpha, beta) for one action's success rate, and the evidence behind it."""
    action: str
    alpha: float
    beta: float
    payer: Stat
    klass: Stat  # the class level without this payer-and-code's own outcomes
    advice: int = 0  # how often this payer's people advised it for this code

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def level(self) -> str:
        if self.payer.n >= MIN_EVIDENCE:
            return "payer"
        if self.advice:
            return "advice"
        if self.klass.n >= MIN_EVIDENCE:
            return "class"
        return "table"


def posterior(action: str, prior: float, klass: Stat, payer: Stat, advice: int = 0) -> Belief:
    """Backoff: the prior as PRIOR_STRENGTH pseudo-outcomes, updated by the class's outcomes
    (excluding this payer-and-code's, counted next), whose mean becomes the payer level's
    prior worth CLASS_STRENGTH outcomes, updated by the payer's own outcomes and advice."""
    others = Stat(max(0, klass.successes - payer.successes), max(0, klass.failures - payer.failures))
    a1 = PRIOR_STRENGTH * prior + others.successes
    b1 = PRIOR_STRENGTH * (1 - prior) + others.failures
    m1 = a1 / (a1 + b1)
    advised = ADVICE_WEIGHT * min(advice, ADVICE_CAP)
    return Belief(action, CLASS_STRENGTH * m1 + payer.successes + advised,
                  CLASS_STRENGTH * (1 - m1) + payer.failures, payer, others, advice)


@dataclass(frozen=True)
class Choice:
    action: str
    confidence: float
    exploring: bool
    reason: str
    evidence: str  # payer, class or table
    greedy: str  # the best-known action (equal to action unless exploring)


def choose(ctx: Context, f: Facts, payer_stats: dict[str, Stat], class_stats: dict[str, Stat],
           rng: random.Random, explore_rate: float, now: datetime | None = None,
           advice: dict[str, int] | None = None) -> Choice:
    """The best-known action, or with probability ``explore_rate`` a Thompson draw (which
    differs from the best-known only while the evidence leaves room for doubt). ``advice``:
    how often the payer's people advised each action for this code."""
    advice = {a: n for a, n in (advice or {}).items() if a in ACTIONS and n > 0}
    priors = {**{a: ADVISED_PRIOR for a in advice}, **ctx.priors}
    beliefs = [posterior(a, p, class_stats.get(a, Stat()), payer_stats.get(a, Stat()),
                         advice.get(a, 0)) for a, p in priors.items()]
    tried = set(f.tried)

    def penalty(b: Belief) -> float:
        return TRIED_PENALTY if b.action in tried else 1.0

    greedy = max(beliefs, key=lambda b: (b.mean * penalty(b), priors[b.action]))
    chosen = greedy
    if explore_rate > 0 and len(beliefs) > 1 and rng.random() < explore_rate:
        chosen = max(beliefs, key=lambda b: rng.betavariate(b.alpha, b.beta) * penalty(b))
    exploring = chosen.action != greedy.action
    return Choice(chosen.action, round(chosen.mean, 4), exploring,
                  reason_for(ctx, f, chosen, greedy, exploring, now), chosen.level, greedy.action)


def _short(text: str, most: int = 60) -> str:
    """At most ``most`` characters, cut at a word."""
    return text if len(text) <= most else text[:most - 3].rsplit(" ", 1)[0].rstrip(",;:") + "..."


def _rate(s: Stat) -> str:
    return f"{s.successes} of {s.n}"


def reason_for(ctx: Context, f: Facts, b: Belief, greedy: Belief, exploring: bool,
               now: datetime | None = None) -> str:
    """One short sentence a biller can check: whose outcomes, how many, or the playbook."""
    what = ctx.key if ctx.key.startswith("CARC") else f"{ctx.key} task"
    payer = f.payer_name or f.payer_id or "This payer"
    if b.level == "payer":
        text = f"{payer} resolved {_rate(b.payer)} {what} cases after this step"
    elif b.level == "advice":
        times = "once" if b.advice == 1 else f"{b.advice} times"
        text = f"{payer}'s representatives advised this step for {what} ({times})"
    elif b.level == "class":
        cls = (f.payer_class or "other").replace("_", " ")
        text = (f"{cls.capitalize()} payers resolved {_rate(b.klass)} "
                f"{ctx.entry.category.replace('_', ' ')} cases after this step")
    else:
        if b.action in ctx.because:
            text = f"{what} with {ctx.because[b.action]}: this step fits"
        else:
            text = f"{what}: {_short(ctx.entry.meaning)}; the usual first step"
    if exploring:
        text = (f"Exploring (less evidence than '{label(greedy.action)}', "
                f"{greedy.mean:.0%}): {text}")
    if b.action in f.tried:
        text += "; tried before on this task"
    if now is not None and f.due_at is not None:
        days = (f.due_at - now).total_seconds() / 86400
        if days < 0:
            text += "; deadline passed"
        elif days <= 7:
            text += f"; deadline in {max(0, int(days))} days"
    return text + "."


def table_choice(f: Facts) -> str | None:
    """The static playbook's pick (the baseline the learnt policy must beat)."""
    ctx = context_of(f)
    if ctx is None:
        return None
    return max(ctx.priors.items(), key=lambda kv: kv[1])[0]


# The next step a payer's representative gave (free text from the outcome prompt, or a
# catalogue code) → a catalogue action. First match wins; None when it names no action.
_ADVICE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("peer_to_peer", ("peer to peer", "peer-to-peer", "p2p")),
    ("timely_filing_proof", ("timely filing", "proof of timely", "timely")),
    ("retro_auth", ("retro auth", "retroactive auth", "retro-auth", "authorization", "auth ")),
    ("corrected_claim", ("corrected claim", "resubmit", "re-submit", "rebill", "re-bill",
                         "modifier", "replacement claim", "frequency code 7")),
    ("appeal_with_records", ("appeal", "reconsideration", "redetermination")),
    ("collect_records", ("medical records", "records", "documentation", "notes")),
    ("verify_eligibility", ("eligibility", "eligible", "coverage")),
    ("bill_other_payer", ("other payer", "primary payer", "coordination of benefits", "cob ",
                          "secondary")),
    ("bill_patient", ("bill the patient", "bill patient", "patient responsibility")),
    ("write_off_contractual", ("write off", "write-off", "writeoff", "contractual adjustment")),
    ("close_duplicate", ("duplicate",)),
    ("check_claim_status", ("claim status", "276", "check status", "in process", "call back")),
)


def advised_action(next_step: str | None) -> str | None:
    """The catalogue action a payer's advice names ("resubmit with modifier 25" →
    corrected_claim), or None."""
    if not next_step:
        return None
    text = " ".join(next_step.lower().split()) + " "
    for code, lbl in ACTIONS.items():
        if text.strip() in (code, lbl.lower()):
            return code
    for code, words in _ADVICE_RULES:
        if any(w in text for w in words):
            return code
    return None
