"""nba's suggestions on the gateway's tasks: fetched in one batched call to nba's internal
API with a short timeout (the queue works without them), and the decisions staff take on
them (validated, audited, announced as SuggestionDecided)."""
from __future__ import annotations

import time
import uuid
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from common import logs, service_auth
from common.events.generated import SuggestionDecided
from common.nba_actions import ACTIONS, Suggestion, catalogue
from common.uow import UnitOfWork
from services.gateway.auth import User
from services.gateway.errors import Conflict, Invalid, NotFound, Unavailable
from services.gateway.tasks import actions, store

log = logs.get(__name__)


SuggestionOut = Suggestion  # nba's answer, shown on the task as is


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    suggestion_id: uuid.UUID
    decision: Literal["accepted", "modified", "dismissed"]
    action: str | None = Field(None, max_length=60,
                               description="the action taken instead (required for modified)")
    note: str | None = Field(None, max_length=2_000)

    @model_validator(mode="after")
    def _action(self) -> DecisionIn:
        if self.action is not None and self.action not in ACTIONS:
            raise ValueError(f"action '{self.action}' is not a known action code; "
                             f"one of: {', '.join(ACTIONS)}")
        if self.decision == "modified" and self.action is None:
            raise ValueError("a modified decision needs the action taken instead")
        if self.decision == "dismissed" and self.action is not None:
            raise ValueError("a dismissed suggestion takes no action")
        return self


class DecisionOut(BaseModel):
    task_id: uuid.UUID
    suggestion_id: uuid.UUID
    decision: str
    suggested_action: str
    action: str | None


class ActionOut(BaseModel):
    code: str
    label: str


class NbaClient:
    """nba's internal API. After a failure, suggestions are skipped for ``pause_s`` (a page
    never waits on an nba that is down). A decision's lookup may wait longer
    (``decision_timeout_s``): a person pressed a button and a retry costs them more."""

    decision_timeout_s = 5.0

    def __init__(self, url: str, timeout_s: float, pause_s: float = 5.0, *, token: str = "",
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        # nba's internal API answers only a caller with the service credential.
        self.http = (httpx.AsyncClient(base_url=self.url, timeout=timeout_s, transport=transport,
                                       headers={service_auth.HEADER: token})
                     if url else None)
        self.pause_s = pause_s
        self._down_until = 0.0

    @property
    def available(self) -> bool:
        return self.http is not None and time.monotonic() >= self._down_until

    def _failed(self, exc: Exception) -> None:
        self._down_until = time.monotonic() + self.pause_s
        log.warning("nba_unavailable", error=exc)

    async def suggestions(self, org_id: str, task_ids: list[uuid.UUID]) -> dict[str, dict | None]:
        if not task_ids or not self.available:
            return {}
        try:
            r = await self.http.get("/internal/v1/suggestions",
                                    params={"org_id": org_id, "task_id": [str(t) for t in task_ids]})
            r.raise_for_status()
            return r.json()["suggestions"]
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            self._failed(exc)
            return {}

    async def logged(self, org_id: str, suggestion_id: uuid.UUID) -> dict | None:
        """One logged suggestion (None: nba does not know it for this org)."""
        if self.http is None:
            raise Unavailable("suggestions are not configured (GATEWAY_NBA_URL)")
        try:
            r = await self.http.get(f"/internal/v1/suggestions/{suggestion_id}",
                                    params={"org_id": org_id},
                                    timeout=max(self.decision_timeout_s, self.http.timeout.read or 0))
        except httpx.HTTPError as exc:
            self._failed(exc)
            raise Unavailable("the suggestion service did not answer; try again") from exc
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise Unavailable(f"the suggestion service answered {r.status_code}")
        return r.json()


NBA: NbaClient = NbaClient("", 0.5)


def configure(url: str, timeout_s: float, *, token: str,
              transport: httpx.AsyncBaseTransport | None = None) -> None:
    """Point the process at nba, with the service credential (called once when the API app
    is built)."""
    global NBA
    NBA = NbaClient(url, timeout_s, token=token, transport=transport)


async def attach(org_id: str, items: list) -> list:
    """Set ``suggestion`` on TaskOut items of one org in one call to nba (left None when
    nba is down, slow, or has none for a task)."""
    if not items:
        return items
    got = await NBA.suggestions(org_id, [t.id for t in items])
    for t in items:
        s = got.get(str(t.id))
        t.suggestion = SuggestionOut.model_validate(s) if s else None
    return items


def action_catalogue() -> list[ActionOut]:
    """Every action code and label (the 'modify' picker)."""
    return [ActionOut(**a) for a in catalogue()]


async def decide(uow: UnitOfWork, user: User, row, body: DecisionIn, logged: dict) -> DecisionOut:
    """Record a decision on nba's suggestion for a (locked) task: a history row, an audit
    row and SuggestionDecided, in the caller's transaction. Refused: 404 (not this task's
    suggestion), 409 (decided before), 422 (an accept naming another action)."""
    if logged.get("task_id") != str(row.id):
        raise NotFound(f"suggestion {body.suggestion_id} is not for task {row.id}")
    suggested = logged["action"]
    if logged.get("decision") or await store.suggestion_decided(uow.session, row.id,
                                                                str(body.suggestion_id)):
        raise Conflict(f"suggestion {body.suggestion_id} was already decided")
    if body.decision == "accepted":
        if body.action not in (None, suggested):
            raise Invalid(f"accepting means doing '{suggested}'; "
                               "send decision 'modified' to do another action")
        action = suggested
    else:
        action = body.action
    if body.decision == "modified" and action == suggested:
        raise Invalid("a modified decision needs an action other than the suggested one "
                           "(send 'accepted' to take it)")
    detail = {"suggestion_id": str(body.suggestion_id), "decision": body.decision,
              "suggested_action": suggested, "action": action,
              "exploring": bool(logged.get("exploring")), **({"note": body.note} if body.note else {})}
    await actions.record(uow, user, row, "suggestion_decided", detail)
    await uow.emit(SuggestionDecided(
        task_id=row.id, suggestion_id=body.suggestion_id, decision=body.decision,
        suggested_action=suggested, action=action, actor_id=user.id, task_type=row.task_type,
        has_note=bool(body.note)), org_id=row.org_id, key=str(row.id))
    return DecisionOut(task_id=row.id, suggestion_id=body.suggestion_id, decision=body.decision,
                       suggested_action=suggested, action=action)
