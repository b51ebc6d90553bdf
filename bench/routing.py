"""Routing benchmark.

route_decision_p99_us: one decision with 100 rules and 1,000 users × 50 skill tags in an
org (the domain function the worker calls, on realistic tasks).
routing_events_per_s and intake_events_per_s: each service's worker alone (no other
service process running), N events published to its input topic, until its N output
events are on the bus. Routing's org has 200 people (mixed roles, 12 skill tags each), so
every decision weighs candidates and reserves its owner's capacity. Rounds alternate
routing, intake, routing, intake, ... so that a machine busy with something else slows both
alike; the medians and their ratio are printed, with the lowest per-round ratio.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from aiokafka import AIOKafkaConsumer

from common import events, kafka, localstack, topics
from common.events.generated import TaskCreated, UserUpserted
from common.routing_rules import DEFAULT_RULES
from common.settings import CommonSettings
from common.tests.test_events import denial
from services.routing.domain import RuleSet, Staff, StaffIndex, decide

TYPES = ["Denial", "Follow-up", "Claim Status", "Prior Auth", "RxRenewal", "Co-sign",
         "Referral", "Care Coordination"]
PAYER_CLASSES = ["commercial", "medicare", "medicaid", "workers_comp", "tricare"]


def org_setup(rng: random.Random) -> tuple[list[dict], list[Staff]]:
    tags = [f"tag{i}" for i in range(300)] + TYPES + PAYER_CLASSES + \
        ["SeniorBiller", "GovernmentPayers", "WorkersComp", "EscalationTeam", "ComplexCoding"]
    rules = [{"id": f"r{i}", "when": {"payer_id_eq": f"payer-{i}", "amount_gt": i * 10},
              "targets": [{"skills": rng.sample(tags, 2)}, {"role": "senior_biller"}]}
             for i in range(100 - len(DEFAULT_RULES))] + DEFAULT_RULES
    roles = ["biller", "senior_biller", "nurse", "physician", "care_coordinator"]
    staff = [Staff(f"u{i}", frozenset([rng.choice(roles)]), frozenset(rng.sample(tags, 50)),
                   capacity=60, active_tasks=rng.randint(0, 59)) for i in range(1000)]
    return rules, staff


def a_task(rng: random.Random, i: int) -> TaskCreated:
    return TaskCreated(
        task_id=uuid.uuid4(), task_type=rng.choice(TYPES), priority="Routine", title="t",
        due_at=datetime.now(UTC) + timedelta(days=30), source_kind="DenialPosted",
        source_id=f"S-{i}", source_module="RCM", payer_id=f"payer-{rng.randint(0, 200)}",
        payer_class=rng.choice(PAYER_CLASSES), amount=Decimal(rng.randint(50, 20000)),
        cpt_codes=rng.sample(["99213", "27447", "93000", "71046"], 2),
        details={"service_date": (datetime.now(UTC)
                                  - timedelta(days=rng.randint(1, 200))).date().isoformat()})


def decision_p99_us(n: int) -> tuple[float, float]:
    rng = random.Random(1)
    rules, staff = org_setup(rng)
    # The worker keeps both between polls (until the org's staff or rules change).
    index, rules = StaffIndex(staff), RuleSet.of(rules)
    tasks = [a_task(rng, i) for i in range(n)]
    times = []
    for t in tasks:
        t0 = time.perf_counter()
        decide(t, rules, index)
        times.append((time.perf_counter() - t0) * 1e6)
    times.sort()
    return times[int(0.99 * len(times))], times[len(times) // 2]


async def throughput(settings, service: str, n: int, orgs: list[str]) -> float:
    """Publish n input events for one service; time until its n outputs are on the bus
    (after a warm-up round, so joining the consumer group is not timed). Intake needs
    two orgs it already knows (warm-up and measured). Routing's org has staff, so every
    decision picks an owner and reserves their capacity, as in a real org."""
    if service == "routing":
        await seed_staff(settings, orgs[1], n)
        for _ in range(60):  # until routing has the staff: a warm-up task gets an owner
            if (await one_round(settings, service, 20, orgs[1], owners=True))[1]:
                break
        else:
            raise RuntimeError("routing never assigned a warm-up task: staff not loaded")
    else:
        await one_round(settings, service, 20, orgs[0])
    return (await one_round(settings, service, n, orgs[1]))[0]


STAFF_ROLES = ["biller", "biller", "senior_biller", "nurse", "physician", "care_coordinator"]
STAFF_SKILLS = TYPES + PAYER_CLASSES + ["SeniorBiller", "GovernmentPayers", "WorkersComp",
                                        "EscalationTeam", "ComplexCoding", "Spanish"]


async def seed_staff(settings, org: str, n_tasks: int, people: int = 200) -> None:
    """People for the routing org, through the directory topic as the gateway sends them:
    mixed roles, 12 skill tags each, capacity for the whole run."""
    rng = random.Random(3)
    producer = kafka.producer(settings, "bench-routing")
    await producer.start()
    for i in range(people):
        p = UserUpserted(user_id=f"{org}-u{i}", name=f"Person {i}", roles=[STAFF_ROLES[i % 6]],
                         skills=rng.sample(STAFF_SKILLS, 12), capacity=n_tasks, away=False,
                         active=True, email=f"u{i}@{org}.test")
        env = events.envelope(p, org_id=org, producer="bench")
        await producer.send(topics.DIRECTORY.name, events.encode(env), key=org.encode(),
                            headers=env.headers)
    await producer.stop()


async def one_round(settings, service: str, n: int, org: str,
                    owners: bool = False) -> tuple[float, int]:
    """Events per second for n events, and (when ``owners``: it decodes every output) how
    many outputs named an owner. The input events are built and encoded before the clock
    starts, so that the load generator's own work (a TaskCreated costs more to build than
    a DenialPosted) is not counted against either service."""
    want = b"TaskRouted" if service == "routing" else b"TaskCreated"
    rng = random.Random(2)
    today = datetime.now(UTC).date()  # denials dated from today: the same rules every day
    inputs = []
    for i in range(n):
        p = a_task(rng, i) if service == "routing" else denial(source_id=f"T-{i}", on=today)
        env = events.envelope(p, org_id=org, producer="bench")
        key = str(p.task_id) if service == "routing" else p.source_id
        inputs.append((topics.EVENT_TOPICS[type(p).__name__].name, events.encode(env),
                       key.encode(), env.headers))
    consumer = AIOKafkaConsumer(topics.TASK_EVENTS.name, group_id=None,
                                auto_offset_reset="latest", **settings.kafka_common(),
                                fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms)
    await consumer.start()
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=100)
    await consumer.seek_to_end()
    await consumer.getmany(timeout_ms=200)
    producer = kafka.producer(settings, "bench-routing")
    await producer.start()
    mine = ("event_type", want), ("org_id", org.encode())
    start = time.perf_counter()
    for topic, value, key, headers in inputs:
        await producer.send(topic, value, key=key, headers=headers)
    await producer.flush()
    seen = owned = 0
    while seen < n:
        for msgs in (await consumer.getmany(timeout_ms=1000)).values():
            # Headers as the envelope writes them: event_type first, org_id third.
            out = [m for m in msgs if m.headers[0] == mine[0] and m.headers[2] == mine[1]]
            seen += len(out)
            if owners:
                owned += sum(1 for m in out if events.decode(m.value).payload.owner_id)
    elapsed = time.perf_counter() - start
    await producer.stop()
    await consumer.stop()
    return n / elapsed, owned


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--decisions", type=int, default=2000)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    p99, p50 = decision_p99_us(args.decisions)
    print(f"route_decision_p50_us: {p50:.0f}", flush=True)
    print(f"route_decision_p99_us: {p99:.0f}", flush=True)

    with localstack.scratch_stack("bench-routing", services=("routing", "intake", "gateway")) as stack:
        settings = CommonSettings()  # after the stack set KAFKA_BOOTSTRAP_SERVERS
        # Intake accepts only orgs the gateway announced: onboard them all first, then
        # stop the gateway so that it does not share the CPU with intake while timed.
        stack.up(workers=("intake", "gateway"), apis=("intake",))
        intake_orgs = [f"rt-intake-{uuid.uuid4().hex[:6]}" for _ in range(2 * args.rounds)]
        for org in intake_orgs:
            await asyncio.to_thread(stack.register_org, org)
        routing, intake = [], []
        for k in range(args.rounds):
            for service, out in (("routing", routing), ("intake", intake)):
                stack.down()
                stack.procs.clear()
                stack.up(workers=(service,), apis=())
                orgs = (intake_orgs[2 * k:2 * k + 2] if service == "intake"
                        else [f"rt-routing-{uuid.uuid4().hex[:6]}" for _ in range(2)])
                out.append(await throughput(settings, service, args.events, orgs))
                print(f"# round {k + 1}: {service} {out[-1]:.0f} events/s", file=sys.stderr)
    ratios = [r / i for r, i in zip(routing, intake, strict=True)]
    print(f"routing_events_per_s: {statistics.median(routing):.0f}")
    print(f"intake_events_per_s: {statistics.median(intake):.0f}")
    print(f"routing_to_intake_ratio: {statistics.median(routing) / statistics.median(intake):.2f}")
    print(f"routing_to_intake_ratio_min: {min(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
