"""One stack per test session: every service as a real process on a real broker and
PostgreSQL, with this session's own databases."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest
from common import events, kafka, localstack, topics
from common.settings import CommonSettings


@pytest.fixture(scope="session")
def stack(broker, db_prefix, tmp_path_factory):
    s = localstack.Stack(broker, db_prefix, log_dir=tmp_path_factory.mktemp("logs"),
                         extra_env={"LOG_LEVEL": "INFO"})
    s.init()
    s.up()
    yield s
    s.down()


@pytest.fixture
async def producer(stack):
    p = kafka.producer(CommonSettings(), "integration-test")
    await p.start()
    yield p
    await p.stop()


async def publish(producer, payloads, org: str, *, topic=topics.UPSTREAM_DENIALS,
                  rate: float | None = None) -> list:
    """Publish payloads as an upstream module would; optionally at a steady rate."""
    envs = []
    for i, p in enumerate(payloads):
        env = events.envelope(p, org_id=org, producer="test-rcm")
        await producer.send(topic.name, events.encode(env), key=p.source_id.encode(),
                            headers=env.headers)
        envs.append(env)
        if rate and i % 10 == 9:
            await asyncio.sleep(10 / rate)
    await producer.flush()
    return envs


async def eventually(check: Callable[[], Awaitable], timeout: float = 30, every: float = 0.1):
    """Poll until check() returns something truthy; return it, or fail with the last value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"not true after {timeout}s; last value: {last!r}")


async def all_tasks(gateway_url: str, org: str) -> list[dict]:
    """Every task of an org, paged through the gateway's queue API."""
    out, cursor = [], None
    async with httpx.AsyncClient(base_url=gateway_url, timeout=10) as c:
        while True:
            params = {"org_id": org, "limit": 200, **({"cursor": cursor} if cursor else {})}
            page = (await c.get("/api/v1/queue", params=params)).json()
            out += page["items"]
            if not (cursor := page["next_cursor"]):
                return out
