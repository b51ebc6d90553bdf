"""SIGKILL a consumer while 1,000 denials stream in; after a restart exactly 1,000 tasks
exist, each created once and routed once (a doubled TaskRouted would bump its version)."""
from __future__ import annotations

import asyncio
import signal
import uuid

import pytest

from tests.integration.conftest import all_tasks, denial, eventually, publish

pytestmark = pytest.mark.integration
N = 1000


async def crash_while_streaming(stack, producer, victim: str) -> list[dict]:
    org = f"crash-{victim}-{uuid.uuid4().hex[:6]}"
    payloads = [denial(source_id=f"D-{victim}-{i:04d}") for i in range(N)]
    streaming = asyncio.create_task(publish(producer, payloads, org, rate=400))
    await asyncio.sleep(1.0)  # a few hundred are in flight
    proc = stack[victim]
    proc.kill(signal.SIGKILL)
    await asyncio.sleep(0.5)
    proc.start()
    await streaming
    await asyncio.to_thread(proc.wait_ready, 60)

    async def settled():
        tasks = await all_tasks(stack, org)
        return tasks if len(tasks) >= N and all(t["queue"] for t in tasks) else None

    await eventually(settled, timeout=120, every=0.5)
    await asyncio.sleep(2)  # anything doubled would show up by now
    return await all_tasks(stack, org)


@pytest.mark.parametrize("victim", ["intake-worker", "gateway-worker"])
async def test_sigkill_loses_nothing_and_doubles_nothing(stack, producer, victim):
    tasks = await crash_while_streaming(stack, producer, victim)
    assert len(tasks) == N
    assert len({t["source_id"] for t in tasks}) == N
    versions = {t["version"] for t in tasks}
    assert versions == {2}, f"each task created once and routed once, got versions {versions}"
