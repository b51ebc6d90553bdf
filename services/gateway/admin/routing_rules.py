"""Routing's rules, edited by managers here: validated (the contract is
``common.routing_rules``), versioned per org, audited, announced as RoutingRulesChanged and
applied by routing at once."""
from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field

from common.events.generated import RoutingRulesChanged
from common.routing_rules import DEFAULT_RULES, check_rules
from common.rules import RuleError
from common.runtime import Context
from services.gateway import auth
from services.gateway.admin import store
from services.gateway.audit import store as audit_store
from services.gateway.directory import store as directory_store
from services.gateway.errors import Invalid


class RulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[dict] = Field(max_length=100, description=(
        'in priority order: {"id", "name", "when": {"amount_gt": 5000}, '
        '"targets": [{"skills": ["SeniorBiller"]}, {"role": "biller"}]}'))


class RulesOut(BaseModel):
    version: int
    rules: list[dict]
    defaults: bool


async def current_rules(s, user: auth.User) -> RulesOut:
    """The org's routing rules in force (the defaults until it sets its own)."""
    row = await store.latest(s, store.routing_rule_set, user.org_id)
    if row is None:
        return RulesOut(version=0, rules=DEFAULT_RULES, defaults=True)
    return RulesOut(version=row.version, rules=row.rules, defaults=False)


async def replace_rules(c: Context, manager: auth.User, rules: list[dict]) -> RulesOut:
    """Validate and store a new version of the org's rules; routing applies it at once.
    Invalid names the rule and field."""
    async with c.unit_of_work() as uow:
        known = await directory_store.org_skills(uow.session, manager.org_id)
        users = {u.id for u in await directory_store.users_of(uow.session, manager.org_id)}
        try:
            check_rules(rules, known_skills=known, known_users=users)
        except RuleError as exc:
            raise Invalid(str(exc)) from None
        version = await store.add_version(uow.session, store.routing_rule_set,
                                          key={"org_id": manager.org_id}, rules=rules,
                                          changed_by=manager.id)
        await uow.emit(RoutingRulesChanged(version=version, rules_json=json.dumps(rules),
                                           changed_by=manager.id),
                       org_id=manager.org_id, key=manager.org_id)
        await audit_store.audit(uow.session, org_id=manager.org_id, actor_id=manager.id,
                                action="routing_rules_changed", detail={"version": version})
    return RulesOut(version=version, rules=rules, defaults=False)
