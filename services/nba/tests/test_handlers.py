"""nba on the real PostgreSQL and Redis: tasks followed from events, suggestions computed
on a cold request and then served from Redis, decisions and outcomes learnt once per event
(a redelivered event changes nothing), the precompute of each owner's first tasks, and the
internal API."""
import random
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from common import events, service_auth
from common.consumer import handle_now
from common.events.generated import SuggestionDecided, TaskAssigned, TaskCreated, TaskStatusChanged
from common.runtime import create_api
from services.nba import handlers, store, suggest
from services.nba.app import SERVICE
from services.nba.cache import SuggestionCache

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
async def ctx(migrate):
    c = SERVICE.context(migrate(SERVICE))
    yield c
    await c.engine.dispose()


@pytest.fixture
async def cache(ctx):
    c = SuggestionCache(ctx.settings.redis_url, 600)
    yield c
    await c.close()


def policy(**kw) -> suggest.Policy:
    return suggest.Policy(**{"explore_rate": 0.0, "rng": random.Random(1), **kw})


async def deliver(ctx, payload, org, env=None):
    env = env or events.envelope(payload, org_id=org, producer="test")
    fresh, _ = await handle_now(service="nba", sessions=ctx.sessions, outbox=ctx.outbox,
                                processed=ctx.processed, env=env,
                                handler=handlers.HANDLERS[type(payload)], via="test")
    return env, fresh


def created(org: str, i: int, codes=("CO-50",), payer="aetna", **kw) -> TaskCreated:
    return TaskCreated(**{**dict(
        task_id=uuid.uuid5(uuid.NAMESPACE_URL, f"nba/{org}/{i}"), task_type="Denial",
        priority="High", title="t", due_at=NOW + timedelta(days=10, hours=i),
        source_kind="DenialPosted", source_id=f"S{i}", source_module="RCM", payer_id=payer,
        payer_name=payer.title(), payer_class="commercial", reason_codes=list(codes)), **kw})


def org_id() -> str:
    return f"org-{uuid.uuid4().hex[:8]}"


async def test_cold_request_computes_logs_and_caches_then_serves_from_redis(ctx, cache):
    org = org_id()
    t = created(org, 1)
    await deliver(ctx, t, org)
    got = await suggest.for_tasks(ctx.sessions, ctx.outbox, cache, policy(), org, [t.task_id])
    s = got[t.task_id]
    assert set(s) == {"suggestion_id", "action", "action_label", "reason", "confidence",
                      "exploring", "computed_at"}
    assert s["action"] == "appeal_with_records"
    assert s["action_label"] == "File appeal with medical records"
    assert s["reason"].startswith("CARC 50:") and s["exploring"] is False
    again = await suggest.for_tasks(ctx.sessions, ctx.outbox, cache, policy(), org, [t.task_id])
    assert again[t.task_id] == s  # from Redis: the same logged suggestion
    async with ctx.sessions() as session:
        n = (await session.execute(sa.select(sa.func.count()).select_from(store.suggestion)
                                   .where(store.suggestion.c.task_id == t.task_id))).scalar()
        announced = [events.decode(v) for v in (await session.execute(
            sa.select(store.outbox.c.value))).scalars()]
    assert n == 1
    assert any(e.event_type == "NbaSuggested" and e.payload.task_id == t.task_id
               for e in announced)
    # Another org never sees it (cache and database are both scoped).
    other = await suggest.for_tasks(ctx.sessions, ctx.outbox, cache, policy(), "someone-else",
                                    [t.task_id])
    assert other == {t.task_id: None}


async def test_decision_and_outcome_are_learnt_once_per_event_at_both_levels(ctx, cache):
    org = org_id()
    t = created(org, 2, codes=("CO-197",), payer="cigna")
    await deliver(ctx, t, org)
    s = (await suggest.for_tasks(ctx.sessions, ctx.outbox, cache, policy(), org,
                                 [t.task_id]))[t.task_id]
    decided = SuggestionDecided(task_id=t.task_id, suggestion_id=uuid.UUID(s["suggestion_id"]),
                                decision="modified", suggested_action=s["action"],
                                action="appeal_with_records", actor_id="u1", task_type="Denial")
    env, fresh = await deliver(ctx, decided, org)
    assert fresh
    _, fresh = await deliver(ctx, decided, org, env=env)  # redelivered: a no-op
    assert not fresh
    done = TaskStatusChanged(task_id=t.task_id, from_status="in-progress", to_status="completed",
                             business_status="overturned", actor_id="u1", task_type="Denial")
    env, _ = await deliver(ctx, done, org)
    await deliver(ctx, done, org, env=env)
    # A second outcome event (a later status) does not count again.
    await deliver(ctx, done.model_copy(update={"business_status": "paid"}), org)
    async with ctx.sessions() as session:
        stats = (await session.execute(sa.select(store.action_stat).where(
            store.action_stat.c.org_id == org))).all()
        dec = (await session.execute(sa.select(store.decision_stat).where(
            store.decision_stat.c.org_id == org))).all()
        row = (await store.tasks_by_id(session, [t.task_id]))[t.task_id]
    assert {(r.level, r.scope, r.action, r.successes, r.failures) for r in stats} == {
        (1, "cigna|CARC 197", "appeal_with_records", 1, 0),
        (2, "commercial|authorization", "appeal_with_records", 1, 0)}
    assert [(r.action, r.decision, r.n) for r in dec] == [("retro_auth", "modified", 1)]
    assert row.tried == ["appeal_with_records"] and row.outcome == "good" and not row.active
    # The finished task gets no suggestion.
    await cache.drop([t.task_id])
    assert (await suggest.for_tasks(ctx.sessions, ctx.outbox, cache, policy(), org,
                                    [t.task_id]))[t.task_id] is None


async def test_outcomes_move_the_next_suggestion_for_that_payer(ctx, cache):
    org = org_id()
    for i in range(10, 16):  # six CO-50 denials at Humana: peer-to-peer works, appeals do not
        t = created(org, i, payer="humana")
        await deliver(ctx, t, org)
        s = (await suggest.for_tasks(ctx.sessions, ctx.outbox, cache, policy(), org,
                                     [t.task_id]))[t.task_id]
        action = "peer_to_peer" if i % 2 else "appeal_with_records"
        await deliver(ctx, SuggestionDecided(
            task_id=t.task_id, suggestion_id=uuid.UUID(s["suggestion_id"]),
            decision="accepted" if action == s["action"] else "modified",
            suggested_action=s["action"], action=action, actor_id="u1", task_type="Denial"), org)
        await deliver(ctx, TaskStatusChanged(
            task_id=t.task_id, from_status="in-progress",
            to_status="completed" if i % 2 else "failed",
            business_status="overturned" if i % 2 else "denied-upheld",
            actor_id="u1", task_type="Denial"), org)
    t = created(org, 20, payer="humana")
    await deliver(ctx, t, org)
    s = (await suggest.for_tasks(ctx.sessions, ctx.outbox, cache, policy(), org,
                                 [t.task_id]))[t.task_id]
    assert s["action"] == "peer_to_peer"
    assert s["reason"].startswith("Humana resolved 3 of 3 CARC 50 cases")


async def test_precompute_caches_each_owners_first_tasks_and_drops_the_rest(ctx, cache):
    org = org_id()
    tasks = [created(org, 100 + i) for i in range(5)]
    for t in tasks:
        await deliver(ctx, t, org)
        await deliver(ctx, TaskAssigned(task_id=t.task_id, owner_id="biller-1", actor_id="routing",
                                        task_type="Denial"), org)
    await cache.drop([t.task_id for t in tasks])
    pol = policy(top=3)
    while await suggest.precompute_changed(ctx.sessions, ctx.outbox, cache, pol) >= 1000:
        pass
    cached = await cache.get_many(org, [t.task_id for t in tasks])
    assert set(cached) == {t.task_id for t in tasks[:3]}  # the three due first
    # A change to a cached task recomputes it (a new suggestion id).
    before = cached[tasks[0].task_id]["suggestion_id"]
    await deliver(ctx, TaskStatusChanged(task_id=tasks[0].task_id, from_status="requested",
                                         to_status="in-progress", actor_id="biller-1",
                                         task_type="Denial"), org)
    await suggest.precompute_changed(ctx.sessions, ctx.outbox, cache, pol)
    after = (await cache.get_many(org, [tasks[0].task_id]))[tasks[0].task_id]
    assert after["suggestion_id"] != before
    # Finishing one lets the fourth into the first three at the next sweep.
    await deliver(ctx, TaskStatusChanged(task_id=tasks[0].task_id, from_status="in-progress",
                                         to_status="completed", business_status="paid",
                                         actor_id="biller-1", task_type="Denial"), org)
    await suggest.precompute_changed(ctx.sessions, ctx.outbox, cache, pol)
    assert await cache.get_many(org, [tasks[0].task_id]) == {}
    await suggest.precompute_tops(ctx.sessions, ctx.outbox, cache, pol)
    assert tasks[3].task_id in await cache.get_many(org, [t.task_id for t in tasks])


async def test_internal_api(ctx, migrate):
    org = org_id()
    t = created(org, 200, codes=("PR-1",))
    await deliver(ctx, t, org)
    settings = migrate(SERVICE)
    app = create_api(SERVICE, settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nba",
                                 headers=service_auth.headers(settings)) as c:
        r = await c.get("/internal/v1/suggestions",
                        params={"org_id": org, "task_id": [str(t.task_id), str(uuid.uuid4())]})
        assert r.status_code == 200, r.text
        got = r.json()["suggestions"]
        s = got[str(t.task_id)]
        assert s["action"] == "bill_patient" and list(got.values())[1] is None
        r = await c.get(f"/internal/v1/suggestions/{s['suggestion_id']}", params={"org_id": org})
        assert r.status_code == 200 and r.json()["task_id"] == str(t.task_id)
        assert r.json()["decision"] is None
        r = await c.get(f"/internal/v1/suggestions/{s['suggestion_id']}",
                        params={"org_id": "another"})
        assert r.status_code == 404
        r = await c.get("/internal/v1/actions")
        assert {"code": "peer_to_peer", "label": "Request peer-to-peer review"} in r.json()
        r = await c.get("/internal/v1/suggestions", params={"org_id": org, "task_id": "nope"})
        assert r.status_code == 422
    await app.state.nba_cache.close()


@pytest.mark.parametrize("path", ["/internal/v1/suggestions", "/internal/v1/actions",
                                  f"/internal/v1/suggestions/{uuid.uuid4()}"])
@pytest.mark.parametrize("sent, detail", [
    ({}, "an internal API: send the service credential in X-Service-Token"),
    ({"X-Service-Token": "guessed-" + "x" * 40}, "invalid service credential"),
    ({"Authorization": "Bearer guessed"}, "invalid service credential"),
])
async def test_the_internal_api_answers_only_a_caller_with_the_service_credential(
        migrate, path, sent, detail):
    app = create_api(SERVICE, migrate(SERVICE))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nba",
                                 headers=sent) as c:
        r = await c.get(path, params={"org_id": "o1", "task_id": [str(uuid.uuid4())]})
    await app.state.nba_cache.close()
    assert r.status_code == 401, r.text
    assert r.json()["detail"] == detail and r.headers["WWW-Authenticate"] == "Bearer"
    assert "suggestions" not in r.json()


@pytest.mark.parametrize("org, reason", [("x" * 50_000, "at most 64 characters"),
                                         ("org\x00one", "must not contain a NUL character"),
                                         ("", "at least 1 character")])
async def test_the_internal_api_refuses_an_unbounded_org_id(migrate, org, reason):
    settings = migrate(SERVICE)
    app = create_api(SERVICE, settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nba",
                                 headers=service_auth.headers(settings)) as c:
        r = await c.post("/internal/v1/suggestions")  # wrong method: 405, never a 500
        assert r.status_code == 405
        r = await c.get("/internal/v1/suggestions",
                        params={"org_id": org, "task_id": [str(uuid.uuid4())]})
    await app.state.nba_cache.close()
    assert r.status_code == 422 and reason in r.text, r.text[:300]
