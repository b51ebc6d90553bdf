"""SLA monitor benchmark, on its own broker and database.

sla_sweep_s_per_million: 1,000,000 active clocks across ten orgs (each with a practice
manager and an org admin), of which --breached-pct are past their deadline; the time the
monitor's sweep (the code its timers run) takes to find every breached clock and escalate
it: ladder row, clock update and the two outbox events (TaskEscalated, AlertRequested) per
escalation, committed in batches of --batch. Also the same sweep with nothing due.

escalation_lag_p95_s: the monitor worker running as a real process (1 s timer) with those
million clocks in its table; tasks announced on tasks.events.v1 with deadlines 5-35 s ahead;
lag = when TaskEscalated is read from sla.escalations.v1 minus the deadline.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from aiokafka import AIOKafkaConsumer

from common import events, kafka, localstack, topics
from common.events.generated import TaskCreated
from common.settings import CommonSettings

TYPES = ["Denial", "Prior Auth", "RxRenewal", "Co-sign", "Referral", "Follow-up",
         "Claim Status", "Care Coordination"]

LOAD = """
INSERT INTO task_clock (task_id, org_id, task_type, due_at, active, priority, payer_id,
                        task_due_at, started_at, status, level, warned, breach, next_stage, next_at)
SELECT md5('clock' || g)::uuid, 'org-' || (g %% 10), (%(types)s::text[])[1 + g %% 8], d, true,
       'Routine', 'payer-' || (g %% 12), d, now() - interval '1 day', 'requested', 0, false, 1, 1, d
FROM (SELECT g, CASE WHEN g %% %(every)s = 0 THEN now() - (g %% 3600) * interval '1 second'
                     ELSE now() + (1 + g %% 720) * interval '1 hour' END AS d
      FROM generate_series(1, %(n)s) AS g) AS x
"""
STAFF = """
INSERT INTO staff (org_id, user_id, roles, active)
SELECT 'org-' || o, r || '-' || o, ARRAY[r], true
FROM generate_series(0, 9) AS o, unnest(ARRAY['practice_manager', 'org_admin']) AS r
"""


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def sweep(settings, batch: int) -> tuple[float, int]:
    from services.sla_monitor import app

    ctx = app.SERVICE.context(settings)
    try:
        t0 = time.perf_counter()
        n = await app.escalate_all_due(ctx, batch)
        return time.perf_counter() - t0, n
    finally:
        await ctx.engine.dispose()


async def lag(stack, n: int, spread_s: float) -> list[float]:
    s = CommonSettings()
    consumer = AIOKafkaConsumer(topics.SLA_ESCALATIONS.name, group_id=None, auto_offset_reset="earliest",
                                fetch_max_wait_ms=20, **s.kafka_common())
    await consumer.start()
    producer = kafka.producer(s, "bench-sla")
    await producer.start()
    org = "org-lag"
    now = datetime.now(UTC)
    rng = random.Random(7)
    due: dict[uuid.UUID, datetime] = {}
    for i in range(n):
        tid = uuid.uuid4()
        due[tid] = now + timedelta(seconds=5 + rng.random() * spread_s)
        t = TaskCreated(task_id=tid, task_type=rng.choice(TYPES), priority="Routine", title="t",
                        due_at=due[tid], source_kind="TaskRequested", source_id=f"L-{i}",
                        source_module="RCM")
        env = events.envelope(t, org_id=org, producer="bench")
        await producer.send(topics.TASK_EVENTS.name, events.encode(env), key=str(tid).encode(),
                            headers=env.headers)
    await producer.flush()
    lags: dict[uuid.UUID, float] = {}
    deadline = time.monotonic() + spread_s + 120
    while len(lags) < n and time.monotonic() < deadline:
        for msgs in (await consumer.getmany(timeout_ms=200)).values():
            seen = time.time()
            for m in msgs:
                e = events.decode(m.value)
                if e.event_type == "TaskEscalated" and e.payload.task_id in due:
                    lags.setdefault(e.payload.task_id, seen - due[e.payload.task_id].timestamp())
    await producer.stop()
    await consumer.stop()
    if len(lags) < n:
        print(f"# only {len(lags)} of {n} escalations seen", file=sys.stderr)
    return list(lags.values())


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clocks", type=int, default=1_000_000)
    ap.add_argument("--breached-pct", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--lag-tasks", type=int, default=300)
    ap.add_argument("--lag-spread-s", type=float, default=30.0)
    args = ap.parse_args()
    every = max(1, round(100 / args.breached_pct))

    with localstack.scratch_stack("bench-sla", services=("sla_monitor",)) as stack:
        from services.sla_monitor.app import SlaMonitorSettings

        settings = SlaMonitorSettings(database_prefix=stack.db_prefix)
        dsn = f"postgresql://postgres@127.0.0.1:5432/{stack.db_prefix}sla_monitor"
        t0 = time.perf_counter()
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(LOAD, {"types": TYPES, "every": every, "n": args.clocks})
            c.execute(STAFF)
            c.execute("ANALYZE task_clock")
            breached = c.execute("SELECT count(*) FROM task_clock WHERE next_at <= now()").fetchone()[0]
        print(f"# loaded {args.clocks} clocks ({breached} breached) in {time.perf_counter() - t0:.0f}s",
              file=sys.stderr)
        sweep_s, _ = await sweep(settings, args.batch)  # finds and escalates every breach
        with psycopg.connect(dsn, autocommit=True) as c:
            fired = c.execute("SELECT count(*) FROM escalation").fetchone()[0]
            outbox = c.execute("SELECT count(*) FROM outbox").fetchone()[0]
            c.execute("DELETE FROM outbox")  # not published here: the lag run starts clean
        empty_s, _ = await sweep(settings, args.batch)
        per_million = sweep_s * 1_000_000 / args.clocks
        print(f"sla_clocks: {args.clocks}")
        print(f"sla_breached: {fired} ({100 * fired / args.clocks:.2f}%, {outbox} outbox events)")
        print(f"sla_sweep_s_per_million: {per_million:.2f}")
        print(f"sla_sweep_escalations_per_s: {fired / sweep_s:.0f}")
        print(f"sla_sweep_nothing_due_ms: {empty_s * 1000:.1f}")

        stack.up(workers=("sla_monitor",), apis=())
        lags = await lag(stack, args.lag_tasks, args.lag_spread_s)
        print(f"escalation_lag_p50_s: {pct(lags, 0.5):.2f}")
        print(f"escalation_lag_p95_s: {pct(lags, 0.95):.2f}")
        print(f"escalation_lag_max_s: {max(lags):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
