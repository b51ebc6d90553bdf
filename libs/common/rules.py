"""The condition language of org-editable rules (intake's priority policies, routing's
rules): ``{"amount_gt": 5000, "payer_class_in": ["medicare", "medicaid"]}`` holds when
every condition holds; a list of such dicts holds when any of them does. A fact that is
missing never matches. Conditions on lists (codes) use ``_has`` (any shared item)."""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b, "eq": lambda a, b: a == b, "in": lambda a, b: a in b,
    "has": lambda a, b: bool(set(a) & set(b if isinstance(b, list) else [b])),
}


class RuleError(ValueError):
    """A rule an org wrote that cannot work; the message names the rule and the problem."""


def alternatives(when) -> list[dict]:
    return when if isinstance(when, list) else [when]


def check_conditions(when, *, rule: str, facts: set[str] | None = None) -> None:
    """Refuse conditions that are not <fact>_<op> (or name a fact that does not exist)."""
    if not isinstance(when, dict | list):
        raise RuleError(f"{rule}: 'when' must be an object or a list of objects")
    for cond in alternatives(when):
        if not isinstance(cond, dict):
            raise RuleError(f"{rule}: each condition must be an object")
        for key in cond:
            fact, _, op = key.rpartition("_")
            if not fact or op not in OPS:
                raise RuleError(f"{rule}: '{key}' is not <fact>_<op> with op one of "
                                f"{', '.join(OPS)}")
            if facts is not None and fact not in facts:
                raise RuleError(f"{rule}: unknown fact '{fact}'; one of {', '.join(sorted(facts))}")


def holds(when, facts: dict) -> bool:
    """Any alternative whose conditions all hold."""
    return _holds(_parse(when), facts)


def compile_conditions(when) -> Callable[[dict], bool]:
    """``holds`` for one ``when``, parsed once: keep it to test many tasks (routing tests
    every task against an org's rules)."""
    return partial(_holds, _parse(when))


def _parse(when) -> list[list[tuple[str, Callable[[Any, Any], bool], Any]]]:
    """Each alternative as its (fact, operator, expected value) conditions."""
    return [[(fact, OPS[op], expected) for key, expected in cond.items()
             for fact, _, op in [key.rpartition("_")]]
            for cond in alternatives(when)]


def _holds(alts: list, facts: dict) -> bool:
    for conds in alts:
        for fact, op, expected in conds:
            value = facts.get(fact)
            try:
                if value is None or not op(value, expected):
                    break
            except TypeError:  # e.g. comparing a number with a string: no match
                break
        else:
            return True
    return False
