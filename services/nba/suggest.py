"""Computing, logging and caching suggestions: for a batch of tasks on request (a cold
cache), for tasks that changed, and for the first 100 of every owner's queue."""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from common.events.generated import NbaSuggested
from common.nba_actions import label
from common.uow import UnitOfWork, transaction
from services.nba import domain, metrics, store
from services.nba.cache import SuggestionCache
from services.nba.domain import Facts, Stat


@dataclass
class Policy:
    """How suggestions are made and kept (from the service's settings)."""
    explore_rate: float = 0.15
    cache_ttl_s: int = 600
    max_age_s: int = 3600  # a suggestion older than this is recomputed (statistics moved)
    top: int = 100
    rng: random.Random | None = None

    def __post_init__(self) -> None:
        self.rng = self.rng or random.Random()


def facts_of(row) -> Facts:
    return Facts(task_type=row.task_type, payer_id=row.payer_id, payer_name=row.payer_name,
                 payer_class=row.payer_class, reason_codes=tuple(row.reason_codes or ()),
                 due_at=row.due_at, tried=tuple(row.tried or ()))


def public(s) -> dict:
    """The suggestion as the gateway shows it (the contract: exactly these fields)."""
    get = s.get if isinstance(s, dict) else lambda k: getattr(s, k)
    return {"suggestion_id": str(get("suggestion_id")), "action": get("action"),
            "action_label": label(get("action")), "reason": get("reason"),
            "confidence": round(float(get("confidence")), 4), "exploring": bool(get("exploring")),
            "computed_at": get("computed_at").isoformat()}


async def compute(uow: UnitOfWork, rows: list, policy: Policy, now: datetime
                  ) -> dict[uuid.UUID, tuple[str, dict]]:
    """New suggestions for these tasks: logged, pointed at by the task, announced when the
    action changed. Returns task → (org, public suggestion); tasks nba has nothing for are left out."""
    contexts = [(r, f, ctx) for r in rows
                if (ctx := domain.context_of(f := facts_of(r))) is not None]
    if not contexts:
        return {}
    scopes = {c.payer_scope for _, _, c in contexts} | {c.class_scope for _, _, c in contexts}
    stats = await store.stats_for(uow.session, {r.org_id for r, _, _ in contexts}, scopes)

    def of(org: str, level: int, scope: str) -> dict[str, Stat]:
        return {a: Stat(s, f) for a, (s, f) in stats.get((org, level, scope), {}).items()}

    logged, out, changed = [], {}, []
    for r, f, ctx in contexts:
        ch = domain.choose(ctx, f, of(r.org_id, store.PAYER, ctx.payer_scope),
                           of(r.org_id, store.CLASS, ctx.class_scope), policy.rng,
                           policy.explore_rate, now,
                           {a: s for a, (s, _) in stats.get((r.org_id, store.ADVICE,
                                                              ctx.payer_scope), {}).items()})
        row = {"suggestion_id": uuid.uuid4(), "org_id": r.org_id, "task_id": r.task_id,
               "task_version": r.version, "task_type": r.task_type, "action": ch.action,
               "greedy_action": ch.greedy, "confidence": ch.confidence,
               "exploring": ch.exploring, "evidence": ch.evidence, "reason": ch.reason,
               "computed_at": now}
        logged.append(row)
        metrics.SUGGESTED.labels(str(ch.exploring).lower()).inc()
        out[r.task_id] = (r.org_id, public(row))
        if ch.action != r.suggested_action:
            changed.append(row)
    await store.log_suggestions(uow.session, logged, now + timedelta(seconds=policy.cache_ttl_s))
    for s in changed:
        await uow.emit(NbaSuggested(
            task_id=s["task_id"], suggestion_id=s["suggestion_id"], action=s["action"],
            reason=s["reason"], confidence=s["confidence"], exploring=s["exploring"],
            evidence=s["evidence"], task_type=s["task_type"]),
            org_id=s["org_id"], key=str(s["task_id"]))
    return out


def current(r, policy: Policy, now: datetime) -> bool:
    """The task's logged suggestion still fits it (same version, not too old)."""
    return (r.suggestion_id is not None and r.suggested_version == r.version
            and r.suggested_at is not None
            and r.suggested_at > now - timedelta(seconds=policy.max_age_s))


async def refresh(uow: UnitOfWork, rows: list, policy: Policy, now: datetime
                  ) -> dict[uuid.UUID, tuple[str, dict]]:
    """Suggestions for active tasks: the logged one while it still fits, else a new one."""
    keep = [r for r in rows if current(r, policy, now)]
    out: dict = {}
    if keep:
        logged = await store.suggestions_by_id(uow.session, [r.suggestion_id for r in keep])
        for r in keep:
            if (s := logged.get(r.suggestion_id)) is not None:
                out[r.task_id] = (r.org_id, public(s))
        await store.mark_seen(uow.session, {r.task_id: r.version for r in keep},
                              now + timedelta(seconds=policy.cache_ttl_s))
    out.update(await compute(uow, [r for r in rows if r.task_id not in out], policy, now))
    return out


async def for_tasks(sessions, outbox, cache: SuggestionCache, policy: Policy, org_id: str,
                    task_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict | None]:
    """Suggestions for one org's tasks: Redis first, the misses computed on the spot.
    None for a task nba does not know (yet), a finished one, or a type it has nothing for."""
    hits = await cache.get_many(org_id, task_ids)
    misses = [t for t in dict.fromkeys(task_ids) if t not in hits]
    metrics.CACHE.labels("hit").inc(len(task_ids) - len(misses))
    metrics.CACHE.labels("miss").inc(len(misses))
    fresh: dict = {}
    if misses:
        now = datetime.now(UTC)
        async with transaction(sessions, outbox, producer="nba") as uow:
            rows = await store.tasks_by_id(uow.session, misses, org_id=org_id)
            fresh = await refresh(uow, [r for r in rows.values() if r.active], policy, now)
        await cache.put_many(fresh)
    return {t: hits.get(t) or (fresh[t][1] if t in fresh else None) for t in task_ids}


async def precompute_changed(sessions, outbox, cache: SuggestionCache, policy: Policy,
                             batch: int = 1000) -> int:
    """Handle tasks that changed since last seen: recompute and cache those in the first
    ``top`` of their owner's queue, drop the cached suggestion of the others. Returns how many."""
    now = datetime.now(UTC)
    async with transaction(sessions, outbox, producer="nba") as uow:
        rows = await store.dirty_tasks(uow.session, batch, policy.top)
        top = [r for r in rows if r.in_top]
        rest = [r for r in rows if not r.in_top]
        fresh = await compute(uow, top, policy, now)
        await store.mark_seen(uow.session, {r.task_id: r.version for r in rows
                                            if r.task_id not in fresh})
    await cache.drop([r.task_id for r in rest])
    await cache.put_many(fresh)
    return len(rows)


async def precompute_tops(sessions, outbox, cache: SuggestionCache, policy: Policy,
                          chunk: int = 2000) -> int:
    """Cache a suggestion for the first ``top`` tasks of every owner's queue whose cached one
    ends within half the TTL (the logged one if it still fits). Returns how many tasks."""
    now = datetime.now(UTC)
    async with sessions() as session:
        rows = await store.tops_to_refresh(
            session, top=policy.top, before=now + timedelta(seconds=policy.cache_ttl_s / 2),
            limit=10_000_000)
    for i in range(0, len(rows), chunk):
        async with transaction(sessions, outbox, producer="nba") as uow:
            fresh = await refresh(uow, rows[i:i + chunk], policy, now)
        await cache.put_many(fresh)
    return len(rows)
