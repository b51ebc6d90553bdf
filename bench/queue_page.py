"""Queue benchmark: a filtered, sorted first page of the queue with 100,000 active tasks in
one org and 1,000,000 across ten, through the gateway API (real process, real HTTP, signed
in) and the same query run directly in PostgreSQL, in the same run.

Prints queue_p95_ms, queue_p50_ms, queue_sql_p95_ms and queue_ratio_to_sql.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime

import httpx
import psycopg
from sqlalchemy.dialects import postgresql

from common import localstack
from services.gateway.queue import store
from services.gateway.queue.models import QueueFilter

TYPES = ["Denial", "Prior Auth", "RxRenewal", "Co-sign", "Referral", "Follow-up",
         "Claim Status", "Care Coordination"]
PRIORITIES = ["Urgent", "High", "Routine", "Low"]
STATUSES = ["requested", "requested", "requested", "in-progress", "on-hold", "ready",
            "accepted"]  # all active: the issue asks for 100,000 *active* tasks in one org

LOAD = """
INSERT INTO task (id, org_id, task_type, status, priority, priority_rank, title, due_at,
                  patient_id, patient_name, payer_id, payer_name, payer_class, amount,
                  source_kind, source_id, source_module, created_at, owner_id, queue)
SELECT md5(%(org)s || g)::uuid, %(org)s,
       (%(types)s::text[])[1 + g %% 8],
       (%(statuses)s::text[])[1 + (g / 8) %% 7],
       (%(priorities)s::text[])[1 + (g / 3) %% 4], (g / 3) %% 4,
       'Task ' || g, now() + ((g %% 9000) - 1000) * interval '1 hour',
       'PT-' || (g %% 20000), 'PATIENT, ' || g, 'payer-' || (g %% 12), 'Payer ' || (g %% 12),
       'commercial', (g %% 20000)::numeric, 'DenialPosted', 'S-' || g, 'RCM', now(),
       CASE WHEN g %% 5 = 0 THEN NULL ELSE 'user-' || (g %% 40) END, 'default'
FROM generate_series(1, %(n)s) AS g
"""


def load(dsn: str, orgs: int, per_org: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("ALTER TABLE task DISABLE TRIGGER task_keep_version")  # synthetic bulk load
        for i in range(orgs):
            c.execute(LOAD, {"org": f"org-{i}", "types": TYPES, "statuses": STATUSES,
                             "priorities": PRIORITIES, "n": per_org})
            print(f"# loaded org-{i}: {per_org} tasks", file=sys.stderr)
        c.execute("ALTER TABLE task ENABLE TRIGGER task_keep_version")
        c.execute("ANALYZE task")


def filtered_first_page_sql(org: str) -> tuple[str, dict]:
    f = QueueFilter(task_type=["Denial"], priority=["High", "Urgent"], sort="due")
    q = store.queue_query(f, org_id=org, user_id="x", now=datetime.now(UTC), after=None,
                          limit=51)
    compiled = q.compile(dialect=postgresql.psycopg.dialect(),
                         compile_kwargs={"render_postcompile": True})
    return str(compiled), compiled.params


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--orgs", type=int, default=10)
    ap.add_argument("--per-org", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=300)
    args = ap.parse_args()

    with localstack.scratch_stack("bench-queue", services=("gateway",)) as stack:
        dsn = f"postgresql://postgres@127.0.0.1:5432/{stack.db_prefix}gateway"
        t0 = time.perf_counter()
        load(dsn, args.orgs, args.per_org)
        print(f"# loaded {args.orgs * args.per_org} tasks in {time.perf_counter() - t0:.0f}s",
              file=sys.stderr)
        stack.up(workers=(), apis=("gateway",))
        org = "org-0"
        stack.seed_users({"orgs": [{"id": org, "name": org}], "users": [{
            "org_id": org, "email": "pm@bench.test", "name": "PM", "password": "bench-password-1",
            "roles": ["practice_manager"]}]})
        url = stack["gateway-api"].url
        async with httpx.AsyncClient(base_url=url, timeout=30) as c:
            r = await c.post("/api/v1/auth/token",
                             json={"email": "pm@bench.test", "password": "bench-password-1"})
            c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
            params = {"task_type": "Denial", "priority": ["High", "Urgent"], "sort": "due",
                      "limit": 50}
            api: list[float] = []
            for i in range(args.requests + 20):
                t = time.perf_counter()
                r = await c.get("/api/v1/queue", params=params)
                if i >= 20:  # warm-up
                    api.append((time.perf_counter() - t) * 1000)
            r.raise_for_status()
            assert len(r.json()["items"]) == 50
        sql, sql_params = filtered_first_page_sql(org)
        direct: list[float] = []
        with psycopg.connect(dsn) as conn:
            for i in range(args.requests + 20):
                t = time.perf_counter()
                rows = conn.execute(sql, sql_params).fetchall()
                if i >= 20:
                    direct.append((time.perf_counter() - t) * 1000)
            assert len(rows) == 51
            total = conn.execute("SELECT count(*) FROM task").fetchone()[0]
            in_org = conn.execute("SELECT count(*) FROM task WHERE org_id = %s", (org,)).fetchone()[0]
    print(f"queue_tasks_total: {total}")
    print(f"queue_tasks_in_org: {in_org}")
    print(f"queue_p50_ms: {pct(api, 0.5):.2f}")
    print(f"queue_p95_ms: {pct(api, 0.95):.2f}")
    print(f"queue_mean_ms: {statistics.mean(api):.2f}")
    print(f"queue_sql_p50_ms: {pct(direct, 0.5):.2f}")
    print(f"queue_sql_p95_ms: {pct(direct, 0.95):.2f}")
    print(f"queue_ratio_to_sql: {pct(api, 0.95) / pct(direct, 0.95):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
