"""One stack per test session: every service as a real process on a real broker and
PostgreSQL, with this session's own databases."""
from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from common import events, kafka, localstack, topics
from common.settings import CommonSettings
from common.tests import test_events
from services.intake.tests import test_domain

STACK: list[localstack.Stack] = []
_registered: set[str] = set()


@dataclass
class Outside:
    """The outside world of the stack: a local Twilio Messages API, a local SMTP server,
    and the SLA monitor's clock file (its offset in seconds; 0 is real time)."""
    twilio: object
    smtp: object
    clock_file: Path

    def env(self) -> dict:
        return {"PAYER_COMMS_TWILIO_BASE_URL": self.twilio.url,
                "PAYER_COMMS_TWILIO_ACCOUNT_SID": "ACintegration",
                "PAYER_COMMS_SMTP_PORT": str(self.smtp.port),
                "PAYER_COMMS_RETRY_BASE_S": "0.3", "PAYER_COMMS_DELIVERY_POLL_S": "0.2",
                "SLA_MONITOR_CLOCK_FILE": str(self.clock_file), "SLA_MONITOR_TICK_S": "0.5",
                "SLA_MONITOR_SWEEP_BATCH": "50"}

    def set_clock(self, offset_s: float) -> None:
        tmp = self.clock_file.with_suffix(".tmp")
        tmp.write_text(str(offset_s))
        tmp.replace(self.clock_file)


@pytest.fixture(scope="session")
def outside(tmp_path_factory):
    from services.payer_comms.tests.local_servers import FakeTwilio, LocalSmtp

    o = Outside(FakeTwilio().start(), LocalSmtp().start(),
                tmp_path_factory.mktemp("sla") / "clock")
    o.set_clock(0)
    yield o
    o.twilio.stop()
    o.smtp.stop()


@pytest.fixture(scope="session")
def stack(broker, db_prefix, tmp_path_factory, outside):
    s = localstack.Stack(broker, db_prefix, log_dir=tmp_path_factory.mktemp("logs"),
                         extra_env={"LOG_LEVEL": "INFO", **outside.env(),
                                    # not the development value: every internal call must
                                    # carry this stack's own credential
                                    "SERVICE_TOKEN": f"integration-{uuid.uuid4().hex}"})
    s.init()
    s.up()
    STACK.append(s)
    yield s
    s.down()


def register(org: str) -> None:
    """Onboard an org once (gateway → OrgRegistered → intake)."""
    if org not in _registered:
        STACK[0].register_org(org)
        _registered.add(org)


@pytest.fixture
async def producer(stack):
    p = kafka.producer(CommonSettings(), "integration-test")
    await p.start()
    yield p
    await p.stop()


def utc_today() -> date:
    """Today as intake (an event's occurred_at) and routing (its clock) see it: in UTC."""
    return datetime.now(UTC).date()


def denial(*, on: date | None = None, **kw):
    """A denial dated from the day it is sent (today, UTC, unless ``on``): whatever the
    calendar says, it is Low and routes by payer and amount (see test_events.denial)."""
    return test_events.denial(on=on or utc_today(), **kw)


def source(kind: str, *, on: date | None = None):
    """A source event of a kind dated from the day it is sent (see test_domain.source)."""
    return test_domain.source(kind, on=on or utc_today())


async def publish(producer, payloads, org: str, *, topic=None,
                  rate: float | None = None, occurred_at: datetime | None = None) -> list:
    """Publish payloads as an upstream module would; optionally at a steady rate, or all
    as having occurred at one instant (intake dates a task from its event's occurred_at)."""
    await asyncio.to_thread(register, org)
    envs = []
    for i, p in enumerate(payloads):
        env = events.envelope(p, org_id=org, producer="test-rcm",
                              **({"occurred_at": occurred_at} if occurred_at else {}))
        name = (topic or topics.EVENT_TOPICS[type(p).__name__]).name
        await producer.send(name, events.encode(env), key=p.source_id.encode(),
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


PASSWORD = "integration-password"
_tokens: dict[str, dict] = {}


def auth(stack, org: str, role: str = "practice_manager") -> dict:
    """Authorization headers of a user of ``org`` (created in the gateway on first use)."""
    key = f"{org}/{role}"
    if key not in _tokens:
        email = f"{role}@{org}.test"
        stack.seed_users({"orgs": [{"id": org, "name": org}],
                          "users": [{"org_id": org, "email": email, "name": role,
                                     "password": PASSWORD, "roles": [role]}]})
        r = httpx.post(f"{stack['gateway-api'].url}/api/v1/auth/token",
                       json={"email": email, "password": PASSWORD}, timeout=10)
        r.raise_for_status()
        _tokens[key] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    return _tokens[key]


async def all_tasks(stack, org: str) -> list[dict]:
    """Every task of an org, paged through the gateway's queue API (all statuses)."""
    from services.gateway.domain import STATUSES

    headers = await asyncio.to_thread(auth, stack, org)
    out, cursor = [], None
    async with httpx.AsyncClient(base_url=stack["gateway-api"].url, timeout=10,
                                 headers=headers) as c:
        while True:
            params = {"limit": 200, "status": list(STATUSES), **({"cursor": cursor} if cursor else {})}
            r = await c.get("/api/v1/queue", params=params)
            r.raise_for_status()
            page = r.json()
            out += page["items"]
            if not (cursor := page["next_cursor"]):
                return out
