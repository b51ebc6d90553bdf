"""The one timer helper: runs its work every interval until cancelled, survives an error
(logged and counted, the next round is the retry), runs back-to-back while a round leaves
work behind, and can wait one interval first."""
import asyncio

import pytest

from common import metrics, timers


def errors(name: str) -> float:
    return metrics.TIMER_ERRORS.labels(name)._value.get()


async def run_for(coro, seconds: float) -> None:
    task = asyncio.create_task(coro)
    await asyncio.sleep(seconds)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_work_runs_every_interval_and_an_error_is_counted_not_fatal():
    calls = []

    async def work():
        calls.append(len(calls))
        if len(calls) == 2:
            raise RuntimeError("the database is away")

    before = errors("t-basic")
    await run_for(timers.every(0.02, work, name="t-basic"), 0.15)
    assert len(calls) >= 4  # it went on after the error
    assert errors("t-basic") == before + 1


async def test_a_round_that_leaves_work_runs_the_next_at_once():
    backlog = [10]

    async def work():
        backlog[0] = max(0, backlog[0] - 3)
        return backlog[0]

    # with a 10 s interval, only back-to-back rounds can empty the backlog within 0.1 s
    await run_for(timers.every(10, work, name="t-again", again=lambda left: left > 0), 0.1)
    assert backlog == [0]


async def test_first_after_waits_one_interval_and_on_error_replaces_the_warning():
    calls, seen = [], []

    async def work():
        calls.append(1)
        raise ValueError("x")

    await run_for(timers.every(0.2, work, name="t-after", first="after", on_error=seen.append), 0.1)
    assert calls == [] and seen == []
    await run_for(timers.every(0.01, work, name="t-after", first="after", on_error=seen.append), 0.05)
    assert calls and all(isinstance(e, ValueError) for e in seen) and len(seen) == len(calls)
