"""Pipeline benchmark: DenialPosted published to Kafka → task visible in the gateway API.

Starts its own broker (unless KAFKA_BOOTSTRAP_SERVERS is set), databases and the whole
stack as real processes, then measures:
  1. sustained throughput: a burst of --burst denials, first publish → last one visible;
  2. latency at a steady --rate, p50/p95/p99: publish (wall clock) → the moment the gateway
     stored the task (its `stored_at`, read back through GET /api/v1/tasks, which is polled
     for every outstanding id every 100 ms; same machine, same clock). The gateway's
     transaction commits a few ms after `stored_at`, at the end of the same batch;
  3. the raw broker: aiokafka produce → consume of the same number of messages of the
     same size, and the pipeline's ratio to it.
Prints `name: value` lines.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime

import httpx
from aiokafka import AIOKafkaConsumer

from common import events, kafka, localstack, topics
from common.settings import CommonSettings
from common.tests.test_events import denial
from services.intake.domain import task_id_for


class Visibility:
    """Polls the gateway for every outstanding task id; notes when each was stored."""

    def __init__(self, url: str, org: str, headers: dict) -> None:
        self.url, self.org, self.headers = url, org, headers
        self.outstanding: dict[str, float] = {}  # task id → publish time (epoch seconds)
        self.latency: dict[str, float] = {}
        self.last_stored = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=10, headers=self.headers) as c:
            while not (stop.is_set() and not self.outstanding):
                pending = list(self.outstanding)
                for i in range(0, len(pending), 200):
                    r = await c.get("/api/v1/tasks", params={"id": pending[i:i + 200]})
                    r.raise_for_status()
                    for t in r.json():
                        sent = self.outstanding.pop(t["id"], None)
                        if sent is not None:
                            stored = datetime.fromisoformat(t["stored_at"]).timestamp()
                            self.latency[t["id"]] = stored - sent
                            self.last_stored = max(self.last_stored, stored)
                await asyncio.sleep(0.1)


async def publish(producer, org: str, n: int, tag: str, vis: Visibility,
                  rate: float | None) -> float:
    start = time.time()
    today = datetime.now(UTC).date()  # denials dated from today: the same rules every day
    for i in range(n):
        p = denial(source_id=f"B-{tag}-{i:06d}", claim_id=f"C-{i}", on=today)
        env = events.envelope(p, org_id=org, producer="bench")
        await producer.send(topics.UPSTREAM_DENIALS.name, events.encode(env),
                            key=p.source_id.encode(), headers=env.headers)
        vis.outstanding[str(task_id_for(org, "DenialPosted", p.source_id))] = time.time()
        if rate:
            ahead = (i + 1) / rate - (time.time() - start)
            if ahead > 0:
                await asyncio.sleep(ahead)
    await producer.flush()
    return start


async def phase(stack, producer, n: int, rate: float | None, tag: str) -> tuple[float, list[float]]:
    org = f"bench-{tag}-{uuid.uuid4().hex[:6]}"
    vis = Visibility(stack["gateway-api"].url, org, sign_in(stack, org))
    stop = asyncio.Event()
    poller = asyncio.create_task(vis.run(stop))
    start = await publish(producer, org, n, tag, vis, rate)
    stop.set()
    await asyncio.wait_for(poller, timeout=600)
    return n / (vis.last_stored - start), sorted(vis.latency.values())


async def raw_broker(settings: CommonSettings, n: int, size: int) -> float:
    name = f"bench.raw.{uuid.uuid4().hex[:6]}"
    await kafka.ensure_topics(settings, [(name, topics.UPSTREAM_DENIALS.partitions)])
    consumer = AIOKafkaConsumer(name, group_id=f"raw-{name}", auto_offset_reset="earliest",
                                fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
                                session_timeout_ms=settings.kafka_session_timeout_ms,
                                heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
                                **settings.kafka_common())
    await consumer.start()
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=100)
    producer = kafka.producer(settings, "bench-raw")
    await producer.start()
    payload = os.urandom(size)
    got = 0
    start = time.perf_counter()

    async def produce():
        for i in range(n):
            await producer.send(name, payload, key=str(i).encode())
        await producer.flush()

    sender = asyncio.create_task(produce())
    while got < n:
        for msgs in (await consumer.getmany(timeout_ms=200)).values():
            got += len(msgs)
    elapsed = time.perf_counter() - start
    await sender
    await producer.stop()
    await consumer.stop()
    return n / elapsed


def sign_in(stack, org: str) -> dict:
    """A practice manager of the bench org, signed in."""
    email, password = f"pm@{org}.test", "bench-password-1"
    stack.register_org(org)
    stack.seed_users({"orgs": [{"id": org, "name": org}], "users": [{
        "org_id": org, "email": email, "name": "Bench PM", "password": password,
        "roles": ["practice_manager"]}]})
    r = httpx.post(f"{stack['gateway-api'].url}/api/v1/auth/token",
                   json={"email": email, "password": password})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--burst", type=int, default=5000)
    ap.add_argument("--steady", type=int, default=3000)
    ap.add_argument("--rate", type=float, default=500.0)
    args = ap.parse_args()

    print("# starting the stack (logs in .run/bench)", file=sys.stderr)
    with localstack.scratch_stack("bench") as stack:
        settings = CommonSettings()
        stack.up()
        producer = kafka.producer(settings, "bench")
        await producer.start()
        await phase(stack, producer, 200, None, "warmup")
        print(f"# burst of {args.burst}", file=sys.stderr)
        rate, _ = await phase(stack, producer, args.burst, None, "burst")
        print(f"# {args.steady} at {args.rate}/s", file=sys.stderr)
        _, lat = await phase(stack, producer, args.steady, args.rate, "steady")
        print(f"# {args.steady // 2} at {args.rate / 2}/s", file=sys.stderr)
        _, half = await phase(stack, producer, args.steady // 2, args.rate / 2, "half")
        await producer.stop()
        size = len(events.encode(events.envelope(denial(), org_id="bench-x", producer="bench")))
        raw = await raw_broker(settings, args.burst, size)
    print(f"pipeline_events_per_s: {rate:.0f}")
    print(f"pipeline_steady_offered_per_s: {args.rate:.0f}")
    print(f"pipeline_p50_ms: {pct(lat, 0.50):.1f}")
    print(f"pipeline_p95_ms: {pct(lat, 0.95):.1f}")
    print(f"pipeline_p99_ms: {pct(lat, 0.99):.1f}")
    print(f"pipeline_mean_ms: {statistics.mean(lat) * 1000:.1f}")
    print(f"pipeline_half_rate_per_s: {args.rate / 2:.0f}")
    print(f"pipeline_p50_ms_at_half_rate: {pct(half, 0.50):.1f}")
    print(f"pipeline_p95_ms_at_half_rate: {pct(half, 0.95):.1f}")
    print(f"raw_broker_events_per_s: {raw:.0f}")
    print(f"ratio_to_raw_broker: {rate / raw:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
