"""Next-best-action benchmark, on its own database and the local Redis.

1,000 users x 100 active tasks each (100,000 tasks across ten orgs, denials with a CARC
mix over twelve payers and four payer classes, plus learnt statistics for every scope),
then, with the code nba's API and worker run (in this process):

nba_precompute_s_1000_users: computing, logging and caching (Redis, 10 min TTL) a
suggestion for the first 100 tasks of every user's queue, from nothing cached.
nba_p95_ms_cold: one task's suggestion with a cache miss on a changed task: Redis miss,
the task and its statistics read, the choice, the log row and NbaSuggested in one commit,
the cache write. nba_p95_ms_cached: the same request answered from Redis.
Also a queue page's batch of 50 tasks, cold and cached, and the same over HTTP (nba-api).
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time

import httpx
import psycopg

from common import localstack

PAYERS = [("aetna", "commercial"), ("cigna", "commercial"), ("uhc", "commercial"),
          ("bcbs", "commercial"), ("humana", "commercial"), ("medicare-a", "medicare"),
          ("medicare-b", "medicare"), ("medicaid-tx", "medicaid"), ("medicaid-ca", "medicaid"),
          ("tricare", "tricare"), ("wc-state", "workers_comp"), ("other", "other")]
CODES = ["CO-50", "CO-197", "CO-16", "CO-29", "CO-18", "CO-27", "CO-45", "PR-1", "CO-252",
         "CO-97", "CO-4", "CO-22"]

LOAD = """
INSERT INTO task (task_id, org_id, task_type, payer_id, payer_name, payer_class, amount,
                  reason_codes, due_at, status, owner_id, active, version, seen_version, created_at)
SELECT md5('nba' || g)::uuid, 'org-' || (g %% 10), 'Denial',
       (%(payers)s::text[])[1 + g %% 12], initcap((%(payers)s::text[])[1 + g %% 12]),
       (%(classes)s::text[])[1 + g %% 12], 100 + g %% 5000,
       ARRAY[(%(codes)s::text[])[1 + (g / 12) %% 12]], now() + (g %% 500) * interval '1 hour',
       'requested', 'user-' || (g %% %(users)s), true, 1, 1, now()
FROM generate_series(0, %(n)s - 1) AS g
"""


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def seed_stats(rng: random.Random) -> list[tuple]:
    """Learnt outcomes at both levels for every org, payer and code in the load."""
    from services.nba import domain

    rows = {}
    for o in range(10):
        for payer, klass in PAYERS:
            for code in CODES:
                ctx = domain.context_of(domain.Facts("Denial", payer_id=payer, payer_class=klass,
                                                     reason_codes=(code,)))
                for a in ctx.priors:
                    for lvl, scope in ((1, ctx.payer_scope), (2, ctx.class_scope)):
                        n = rng.randint(0, 40)
                        s = rng.randint(0, n)
                        rows[(f"org-{o}", lvl, scope, a)] = (s, n - s)
    return [(*k, *v) for k, v in rows.items()]


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--tasks-per-user", type=int, default=100)
    parser.add_argument("--samples", type=int, default=400)
    args = parser.parse_args()
    from services.nba import suggest
    from services.nba.app import SERVICE, policy_of
    from services.nba.cache import SuggestionCache

    rng = random.Random(7)
    n = args.users * args.tasks_per_user
    with localstack.scratch_stack("bench-nba", services=("nba",)) as stack:
        settings = SERVICE.settings_cls(database_prefix=stack.db_prefix)
        dsn = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
        t0 = time.perf_counter()
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(LOAD, {"payers": [p for p, _ in PAYERS], "classes": [k for _, k in PAYERS],
                             "codes": CODES, "users": args.users, "n": n})
            with c.cursor().copy("COPY action_stat (org_id, level, scope, action, successes, "
                                 "failures) FROM STDIN") as copy:
                for row in seed_stats(rng):
                    copy.write_row(row)
            c.execute("ANALYZE")
            ids = [(r[0], r[1]) for r in c.execute("SELECT task_id, org_id FROM task")]
        print(f"# loaded {n} tasks of {args.users} users in {time.perf_counter() - t0:.0f}s",
              file=sys.stderr)
        ctx = SERVICE.context(settings)
        policy = policy_of(settings)
        cache = SuggestionCache(settings.redis_url, settings.cache_ttl_s)
        try:
            t0 = time.perf_counter()
            done = await suggest.precompute_tops(ctx.sessions, ctx.outbox, cache, policy)
            precompute_s = time.perf_counter() - t0
            assert done == n, (done, n)
            with psycopg.connect(dsn, autocommit=True) as c:
                logged = c.execute("SELECT count(*) FROM suggestion").fetchone()[0]
                c.execute("DELETE FROM outbox")

            sample = rng.sample(ids, args.samples)

            async def one(org: str, tid) -> float:
                t = time.perf_counter()
                got = await suggest.for_tasks(ctx.sessions, ctx.outbox, cache, policy, org, [tid])
                assert got[tid] is not None
                return (time.perf_counter() - t) * 1000

            with psycopg.connect(dsn, autocommit=True) as c:  # the sampled tasks changed
                c.execute("UPDATE task SET version = version + 1 WHERE task_id = ANY(%s)",
                          ([t for t, _ in sample],))
            await cache.drop([t for t, _ in sample])
            for tid, org in sample[:20]:  # warm up connections
                await one(org, tid)
            cold = [await one(org, tid) for tid, org in sample[20:]]
            cached = [await one(org, tid) for tid, org in sample[20:]]

            async def page(p) -> float:
                t = time.perf_counter()
                await suggest.for_tasks(ctx.sessions, ctx.outbox, cache, policy, p[0][1],
                                        [tid for tid, _ in p])
                return (time.perf_counter() - t) * 1000

            one_org = [(tid, org) for tid, org in ids if org == "org-3"]  # a page is one org's
            pages = [p for i in range(40) if (p := one_org[i * 50:(i + 1) * 50])]
            with psycopg.connect(dsn, autocommit=True) as c:
                c.execute("UPDATE task SET version = version + 1 WHERE task_id = ANY(%s)",
                          ([t for p in pages for t, _ in p],))
            await cache.drop([t for p in pages for t, _ in p])
            page_cold = [await page(p) for p in pages]
            page_cached = [await page(p) for p in pages]

            print(f"nba_tasks: {n}")
            print(f"nba_precompute_s_1000_users: {precompute_s:.1f}")
            print(f"nba_precompute_tasks_per_s: {done / precompute_s:.0f} ({logged} suggestions logged)")
            print(f"nba_p50_ms_cold: {pct(cold, 0.5):.2f}")
            print(f"nba_p95_ms_cold: {pct(cold, 0.95):.2f}")
            print(f"nba_p50_ms_cached: {pct(cached, 0.5):.2f}")
            print(f"nba_p95_ms_cached: {pct(cached, 0.95):.2f}")
            print(f"nba_page50_p95_ms_cold: {pct(page_cold, 0.95):.2f}")
            print(f"nba_page50_p95_ms_cached: {pct(page_cached, 0.95):.2f}")

            stack.up(workers=(), apis=("nba",))
            url = stack["nba-api"].url
            http_sample = rng.sample(ids, 200)
            with psycopg.connect(dsn, autocommit=True) as c:
                c.execute("UPDATE task SET version = version + 1 WHERE task_id = ANY(%s)",
                          ([t for t, _ in http_sample],))
            await cache.drop([t for t, _ in http_sample])
            async with httpx.AsyncClient(base_url=url, timeout=10,
                                         headers=stack.service_headers()) as h:
                async def call(tid, org) -> float:
                    t = time.perf_counter()
                    r = await h.get("/internal/v1/suggestions",
                                    params={"org_id": org, "task_id": str(tid)})
                    r.raise_for_status()
                    return (time.perf_counter() - t) * 1000

                for tid, org in http_sample[:20]:
                    await call(tid, org)
                http_cold = [await call(tid, org) for tid, org in http_sample[20:]]
                http_cached = [await call(tid, org) for tid, org in http_sample[20:]]
            print(f"nba_http_p95_ms_cold: {pct(http_cold, 0.95):.2f}")
            print(f"nba_http_p95_ms_cached: {pct(http_cached, 0.95):.2f}")
        finally:
            await cache.drop([t for t, _ in ids])
            await cache.close()
            await ctx.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
