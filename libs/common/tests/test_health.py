"""Readiness means "can serve": an API stays ready without the broker (its outbox holds
what it emits), and turns red when its outbox is stuck while the broker answers."""
from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from common.runtime import create_api
from services.intake import store
from services.intake.app import SERVICE

pytestmark = pytest.mark.integration


async def _ready(settings) -> httpx.Response:
    app = create_api(SERVICE, settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as c:
        r = await c.get("/readyz")
    await app.state.ctx.engine.dispose()
    return r


@pytest.fixture(autouse=True)
async def _clean_outbox(migrate):
    yield
    app = create_api(SERVICE, migrate(SERVICE))
    async with app.state.ctx.sessions() as s, s.begin():
        await s.execute(sa.delete(store.outbox))  # leave intake's outbox as we found it
    await app.state.ctx.engine.dispose()


async def _old_event(settings, age_s: int) -> None:
    app = create_api(SERVICE, settings)
    async with app.state.ctx.sessions() as s, s.begin():
        await s.execute(sa.delete(store.outbox))
        await s.execute(sa.insert(store.outbox).values(
            topic="tasks.events.v1", key=b"k", value=b"v",
            created_at=sa.text(f"now() - interval '{age_s} seconds'")))
    await app.state.ctx.engine.dispose()


async def test_an_api_without_its_broker_stays_ready_and_says_degraded(migrate, broker):
    settings = migrate(SERVICE, kafka_bootstrap_servers="127.0.0.1:1")
    await _old_event(settings, 600)  # events wait for the broker: expected, not stuck
    r = await _ready(settings)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "degraded" and body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("degraded: broker unreachable")
    assert body["checks"]["outbox"].startswith("degraded: 1 events wait for the broker")


async def test_a_stuck_outbox_is_not_ready_while_the_broker_answers(migrate, broker):
    settings = migrate(SERVICE, kafka_bootstrap_servers=broker)
    await _old_event(settings, 600)
    r = await _ready(settings)
    assert r.status_code == 503, r.text
    assert r.json()["checks"]["outbox"].startswith("outbox stuck: 1 events, the oldest waiting")
    await _old_event(settings, 1)  # a fresh event is just on its way
    r = await _ready(settings)
    assert r.status_code == 200 and r.json()["status"] == "ok", r.text
