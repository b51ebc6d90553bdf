"""SLA escalations over the bus, every service a real process: on time, never for done tasks,
pause and resume, business calendars, level 2 with an appeal's escalation task, alerts by
SMS (a local Twilio Messages API, failing twice) and e-mail (a local SMTP server), and
exactly one escalation and one alert per level when the monitor is SIGKILLed mid-sweep.

The monitor's clock is moved through its clock file (``outside.set_clock``), never mocked."""
from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer

from common import events, topics
from common.events.generated import TaskCreated
from common.settings import CommonSettings
from services.gateway.directory.seed import seed_user_id
from tests.integration.conftest import PASSWORD, auth, eventually

pytestmark = pytest.mark.integration


def uid(email: str) -> str:
    """A seeded user's id; every test address is name@<org>.test."""
    return seed_user_id(email.rsplit("@", 1)[1].removesuffix(".test"), email)


class Bus:
    """Every event on the SLA and alert topics since the start, decoded, in arrival order."""

    def __init__(self) -> None:
        self.seen: list = []

    async def run(self) -> None:
        s = CommonSettings()
        c = AIOKafkaConsumer(topics.SLA_ESCALATIONS.name, topics.ALERT_REQUESTS.name,
                             topics.PAYER_INTERACTIONS.name, group_id=None,
                             auto_offset_reset="earliest", fetch_max_wait_ms=50, **s.kafka_common())
        await c.start()
        try:
            while True:
                for msgs in (await c.getmany(timeout_ms=200)).values():
                    for m in msgs:
                        self.seen.append((time.time(), events.decode(m.value)))
        finally:
            await c.stop()

    def of(self, org: str, event_type: str, task_id=None) -> list:
        return [e for _, e in self.seen if e.org_id == org and e.event_type == event_type
                and (task_id is None or e.payload.task_id == task_id)]


@pytest.fixture(scope="module")
async def bus(stack):
    b = Bus()
    task = asyncio.create_task(b.run())
    yield b
    task.cancel()


@pytest.fixture(autouse=True)
def real_time(outside):
    outside.set_clock(0)
    yield
    outside.set_clock(0)


class Org:
    """An org with a practice manager and an org admin (both with phone and e-mail)."""

    def __init__(self, stack, name: str) -> None:
        self.stack, self.id = stack, f"{name}-{uuid.uuid4().hex[:6]}"
        n = int(uuid.uuid4().int % 10**7)
        self.pm_email, self.admin_email = f"practice_manager@{self.id}.test", f"admin@{self.id}.test"
        self.pm_phone, self.admin_phone = f"+1555{n:07d}", f"+1556{n:07d}"
        self.pm, self.admin = uid(self.pm_email), uid(self.admin_email)

    def db(self, service: str) -> str:
        return f"postgresql://postgres@127.0.0.1:5432/{self.stack.db_prefix}{service}"

    async def query(self, service: str, sql: str, *args):
        async with await psycopg.AsyncConnection.connect(self.db(service)) as conn:
            return await (await conn.execute(sql, args)).fetchall()

    async def setup(self, policies: list[dict]) -> None:
        """Staff and policies, and wait until the monitor applies both."""
        await asyncio.to_thread(self.stack.seed_users, {
            "orgs": [{"id": self.id, "name": self.id}],
            "users": [{"org_id": self.id, "email": self.pm_email, "name": "PM", "password": PASSWORD,
                       "roles": ["practice_manager"], "phone": self.pm_phone},
                      {"org_id": self.id, "email": self.admin_email, "name": "Admin",
                       "password": PASSWORD, "roles": ["org_admin"], "phone": self.admin_phone}]})
        self.headers = await asyncio.to_thread(auth, self.stack, self.id)
        async with self.client() as c:
            r = await c.put("/api/v1/sla/policies", json={"policies": policies})
            assert r.status_code == 200, r.text

        async def applied():
            staff = await self.query("sla_monitor", "SELECT count(*) FROM staff WHERE org_id = %s", self.id)
            pol = await self.query("sla_monitor", "SELECT version FROM policy_set WHERE org_id = %s", self.id)
            contacts = await self.query("payer_comms", "SELECT count(*) FROM contact WHERE org_id = %s "
                                        "AND phone IS NOT NULL", self.id)
            return staff[0][0] >= 2 and pol and contacts[0][0] >= 2

        await eventually(applied, timeout=30, every=0.2)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.stack["gateway-api"].url, headers=self.headers, timeout=10)

    async def create(self, producer, n: int, task_type: str, **kw) -> list[TaskCreated]:
        """Tasks as intake announces them, on tasks.events.v1."""
        out = []
        for i in range(n):
            t = TaskCreated(**{**dict(
                task_id=uuid.uuid4(), task_type=task_type, priority="Routine", title=f"{task_type} #{i}",
                due_at=datetime.now(UTC) + timedelta(days=30), source_kind="TaskRequested",
                source_id=f"sla-{uuid.uuid4().hex[:8]}", source_module="RCM", payer_id="aetna"), **kw})
            env = events.envelope(t, org_id=self.id, producer="test-intake")
            await producer.send(topics.TASK_EVENTS.name, events.encode(env), key=str(t.task_id).encode(),
                                headers=env.headers)
            out.append(t)
        await producer.flush()
        return out

    async def clocks(self, tasks) -> dict:
        rows = await self.query("sla_monitor", "SELECT task_id, due_at, paused_at, active, level, started_at "
                                "FROM task_clock WHERE org_id = %s", self.id)
        want = {t.task_id for t in tasks}
        return {r[0]: r for r in rows if r[0] in want}

    async def clocked(self, tasks, check=lambda r: True, timeout: float = 60) -> dict:
        async def ok():
            got = await self.clocks(tasks)
            return got if len(got) == len(tasks) and all(check(r) for r in got.values()) else None
        return await eventually(ok, timeout=timeout, every=0.2)

    async def set_status(self, task_id, status: str, business_status: str | None = None) -> None:
        async with self.client() as c:
            async def moved():
                r = await c.get(f"/api/v1/tasks/{task_id}")
                if r.status_code != 200:
                    return None
                r = await c.post(f"/api/v1/tasks/{task_id}/status", headers={"If-Match": r.headers["ETag"]},
                                 json={"status": status, "business_status": business_status})
                return r.status_code == 200 or None  # 412: routing moved it meanwhile; again
            await eventually(moved, timeout=30, every=0.2)

    async def task(self, task_id) -> dict:
        async with self.client() as c:
            return (await c.get(f"/api/v1/tasks/{task_id}")).json()


def escalated(bus: Bus, org: Org, task_id, level: int) -> list:
    return [e for e in bus.of(org.id, "TaskEscalated", task_id) if e.payload.level == level]


async def test_an_escalation_is_on_time_and_its_sms_and_email_arrive_after_two_sms_failures(
        stack, producer, bus, outside):
    org = Org(stack, "sla-alert")
    await org.setup([{"id": "fast", "task_type": "Denial", "deadline_hours": 0.002}])  # 7.2 s
    outside.twilio.fail_next, failed_before = 2, outside.twilio.failures
    [t] = await org.create(producer, 1, "Denial")
    [clock] = (await org.clocked([t])).values()
    esc = await _wait_escalation(bus, org, t.task_id, 1)
    p = esc.payload
    assert p.due_at == clock[1] and p.escalated_to_user_id == org.pm and p.escalated_to_role == "practice_manager"
    assert (p.escalated_at - p.due_at).total_seconds() <= 5, "escalated within seconds of the deadline"

    async def delivered():
        sms = [m for m in outside.twilio.messages if m.to == org.pm_phone and str(t.task_id) in m.body]
        mail = [m for m in outside.smtp.mails if m.to == [org.pm_email] and str(t.task_id) in m.body]
        return (sms, mail) if sms and mail else None

    sms, mail = await eventually(delivered, timeout=30, every=0.2)
    assert outside.twilio.failures - failed_before == 2
    assert len(sms) == 1 and len(mail) == 1 and sms[0].account_sid == "ACintegration"
    assert "SLA breach, level 1" in mail[0].subject
    attempts = await org.query("payer_comms", "SELECT d.channel, d.status, d.attempts FROM delivery d "
                               "JOIN alert a ON a.id = d.alert_id WHERE a.task_id = %s ORDER BY 1", t.task_id)
    assert attempts == [("email", "sent", 1), ("sms", "sent", 3)]
    sent = await eventually(lambda: _async(bus.of(org.id, "AlertSent", t.task_id)
                                           if len(bus.of(org.id, "AlertSent", t.task_id)) >= 2 else None))
    assert sorted((e.payload.channel, e.payload.outcome) for e in sent) == [("email", "sent"), ("sms", "sent")]
    # the gateway: reassigned to the practice manager, history Escalated, level shown
    task = await eventually(lambda: _task_with(org, t.task_id, lambda x: x["escalation_level"] == 1))
    assert task["owner_id"] == org.pm and task["business_status"] == "Escalated"
    assert [h["to_status"] for h in task["history"] if h["action"] == "escalated"] == ["Escalated"]
    # the policy's deadline (SlaDeadlineChanged) may land just after the escalation when
    # the gateway retried it (task not stored yet): the countdown shows it soon after
    task = await eventually(lambda: _task_with(org, t.task_id, lambda x: x["sla_due_in_s"] <= 0))
    assert task["sla_due_in_s"] <= 0


async def test_completed_tasks_are_not_escalated(stack, producer, bus, outside):
    org = Org(stack, "sla-done")
    await org.setup([{"id": "ref", "task_type": "Referral", "deadline_hours": 1}])
    done, open_ = await org.create(producer, 2, "Referral")
    await org.clocked([done, open_])
    await org.set_status(done.task_id, "in-progress")
    await org.set_status(done.task_id, "completed")
    await org.clocked([done], check=lambda r: r[3] is False)
    outside.set_clock(3600 + 60)
    await _wait_escalation(bus, org, open_.task_id, 1)
    await asyncio.sleep(2)  # a sweep or two later
    assert bus.of(org.id, "TaskEscalated", done.task_id) == []
    assert await org.query("sla_monitor", "SELECT 1 FROM escalation WHERE task_id = %s", done.task_id) == []
    assert (await org.task(done.task_id))["escalation_level"] == 0


async def test_on_hold_pauses_the_clock_and_resuming_moves_the_deadline(stack, producer, bus, outside):
    org = Org(stack, "sla-pause")
    await org.setup([{"id": "pa", "task_type": "Prior Auth", "deadline_hours": 1}])
    held, control = await org.create(producer, 2, "Prior Auth")
    await org.clocked([held, control])
    await org.set_status(held.task_id, "in-progress")
    await org.set_status(held.task_id, "on-hold")
    clock = (await org.clocked([held], check=lambda r: r[2] is not None))[held.task_id]
    left = clock[1] - clock[2]  # deadline - paused_at: what was left when it stopped
    shown = await eventually(lambda: _task_with(org, held.task_id, lambda x: x["sla_paused_at"]))
    assert shown["sla_due_in_s"] == int(left.total_seconds())  # the countdown stands still
    outside.set_clock(2 * 3600)
    await _wait_escalation(bus, org, control.task_id, 1)
    await asyncio.sleep(1.5)
    assert bus.of(org.id, "TaskEscalated", held.task_id) == []  # on hold: no breach
    await org.set_status(held.task_id, "in-progress")
    resumed = (await org.clocked([held], check=lambda r: r[2] is None))[held.task_id]
    expected = datetime.now(UTC) + timedelta(hours=2) + left
    assert abs((resumed[1] - expected).total_seconds()) < 10, (resumed[1], expected)
    outside.set_clock(2 * 3600 + 1800)
    await asyncio.sleep(1.5)
    assert bus.of(org.id, "TaskEscalated", held.task_id) == []
    outside.set_clock(3 * 3600 + 120)
    esc = await _wait_escalation(bus, org, held.task_id, 1)
    assert esc.payload.due_at == resumed[1]


async def test_a_business_calendar_skips_holidays(stack, producer, bus, outside):
    org = Org(stack, "sla-cal")
    today = datetime.now(UTC).date()
    await org.setup([
        {"id": "rx", "task_type": "RxRenewal", "deadline_hours": 1,
         "calendar": {"timezone": "UTC", "holidays": [today.isoformat()]}},
        {"id": "cosign", "task_type": "Co-sign", "deadline_hours": 1}])
    [rx] = await org.create(producer, 1, "RxRenewal")
    [cosign] = await org.create(producer, 1, "Co-sign")
    clocks = await org.clocked([rx, cosign])
    tomorrow = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert clocks[rx.task_id][1] == tomorrow + timedelta(hours=1)  # counted from tomorrow 00:00
    outside.set_clock(3600 + 60)
    await _wait_escalation(bus, org, cosign.task_id, 1)
    await asyncio.sleep(1.5)
    assert bus.of(org.id, "TaskEscalated", rx.task_id) == []
    outside.set_clock((tomorrow + timedelta(hours=1, minutes=1) - datetime.now(UTC)).total_seconds())
    esc = await _wait_escalation(bus, org, rx.task_id, 1)
    assert esc.payload.due_at == tomorrow + timedelta(hours=1) and esc.payload.policy_id == "rx"


async def test_level_2_goes_to_the_org_admin_and_an_overdue_appeal_gets_an_escalation_task(
        stack, producer, bus, outside):
    org = Org(stack, "sla-l2")
    await org.setup([{"id": "den", "task_type": "Denial", "deadline_hours": 1, "level2_after_hours": 2}])
    [t] = await org.create(producer, 1, "Denial")
    await org.clocked([t])
    await org.set_status(t.task_id, "in-progress", "Appeal submitted")

    async def appeal_known():
        rows = await org.query("sla_monitor", "SELECT business_status FROM task_clock WHERE task_id = %s", t.task_id)
        return rows and rows[0][0] == "Appeal submitted"
    await eventually(appeal_known, timeout=30, every=0.2)
    outside.set_clock(3600 + 60)
    l1 = await _wait_escalation(bus, org, t.task_id, 1)
    outside.set_clock(3 * 3600 + 120)
    l2 = await _wait_escalation(bus, org, t.task_id, 2)
    assert (l1.payload.escalated_to_user_id, l2.payload.escalated_to_user_id) == (org.pm, org.admin)
    assert l2.payload.appeal is True
    task = await eventually(lambda: _task_with(org, t.task_id, lambda x: x["escalation_level"] == 2
                                               and x["subtasks"]))
    assert task["owner_id"] == org.admin
    [sub] = task["subtasks"]
    assert sub["title"] == f"Escalation: {t.title}" and sub["owner_id"] == org.admin
    await asyncio.sleep(2)  # anything doubled would show by now
    assert [e.payload.level for e in bus.of(org.id, "TaskEscalated", t.task_id)] == [1, 2]
    alerts = bus.of(org.id, "AlertRequested", t.task_id)
    assert sorted((a.payload.level, tuple(a.payload.recipient_user_ids)) for a in alerts) == \
        [(1, (org.pm,)), (2, (org.admin,))]
    await eventually(lambda: _async([m for m in outside.twilio.messages
                                     if m.to == org.admin_phone and str(t.task_id) in m.body]))


async def test_sigkill_mid_sweep_still_gives_one_escalation_and_one_alert_per_level(
        stack, producer, bus, outside):
    n = 1500
    org = Org(stack, "sla-kill")
    await org.setup([{"id": "cc", "task_type": "Care Coordination", "deadline_hours": 1}])
    tasks = await org.create(producer, n, "Care Coordination")
    await org.clocked(tasks, timeout=120)
    count_sql = "SELECT count(*) FROM escalation WHERE org_id = %s"
    outside.set_clock(3600 + 60)
    victim = stack["sla_monitor-worker"]
    at_kill = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = (await org.query("sla_monitor", count_sql, org.id))[0][0]
        if 0 < done < n:
            victim.kill(signal.SIGKILL)
            at_kill = (await org.query("sla_monitor", count_sql, org.id))[0][0]
            break
        await asyncio.sleep(0.01)
    assert at_kill is not None and at_kill < n, "the monitor was killed in the middle of its sweep"
    victim.start()
    await asyncio.to_thread(victim.wait_ready, 60)

    async def all_escalated():
        return (await org.query("sla_monitor", count_sql, org.id))[0][0] == n or None
    await eventually(all_escalated, timeout=120, every=0.5)
    ids = {t.task_id for t in tasks}

    async def on_the_bus():
        esc = {e.payload.task_id for e in bus.of(org.id, "TaskEscalated")}
        return esc >= ids or None
    await eventually(on_the_bus, timeout=120, every=0.5)

    async def all_texted():
        got = Counter(m.body.split()[1] for m in outside.twilio.messages if m.to == org.pm_phone)
        return got if len(got) >= n else None
    texts = await eventually(all_texted, timeout=240, every=1)
    await asyncio.sleep(3)  # anything doubled would show by now
    # a relay re-publishing after the kill may repeat an event (same event id): consumers dedup
    per_task = Counter(e.payload.task_id for e in
                       {e.event_id: e for e in bus.of(org.id, "TaskEscalated")}.values())
    assert set(per_task) == ids and set(per_task.values()) == {1}
    alerts = Counter(e.payload.task_id for e in
                     {e.event_id: e for e in bus.of(org.id, "AlertRequested")}.values())
    assert set(alerts.values()) == {1} and len(alerts) == n
    texts = Counter(m.body.split()[1] for m in outside.twilio.messages if m.to == org.pm_phone)
    mails = Counter(m.body.split()[1] for m in outside.smtp.mails if m.to == [org.pm_email])
    assert set(texts.values()) == {1} and len(texts) == n
    assert set(mails.values()) == {1} and len(mails) == n
    levels = await org.query("gateway", "SELECT escalation_level, count(*) FROM task WHERE org_id = %s "
                             "AND source_kind = 'TaskRequested' GROUP BY 1", org.id)
    assert levels == [(1, n)]


async def test_an_escalation_before_routing_decides_is_not_undone_by_routing(stack, producer, bus):
    """A denial created past its deadline is escalated at once; routing (held back here, so
    the escalation surely lands first) then picks a biller. The task stays with the
    practice manager; its history shows routing's decision as superseded."""
    org = Org(stack, "sla-order")
    await org.setup([])
    biller = f"biller@{org.id}.test"
    await asyncio.to_thread(stack.seed_users, {"orgs": [], "users": [
        {"org_id": org.id, "email": biller, "name": "Biller", "password": PASSWORD, "roles": ["biller"]}]})

    async def routing_knows_the_biller():
        return await org.query("routing", "SELECT 1 FROM staff WHERE user_id = %s", uid(biller)) or None
    await eventually(routing_knows_the_biller, timeout=30, every=0.2)
    routing = stack["routing-worker"]
    routing.stop()
    try:
        [t] = await org.create(producer, 1, "Denial", due_at=datetime.now(UTC) - timedelta(hours=1))
        await _wait_escalation(bus, org, t.task_id, 1)
        task = await eventually(lambda: _task_with(org, t.task_id, lambda x: x["escalation_level"] == 1))
        assert task["owner_id"] == org.pm and task["queue"] is None  # routing has not decided
    finally:
        routing.start()
        await asyncio.to_thread(routing.wait_ready, 60)
    task = await eventually(lambda: _task_with(org, t.task_id, lambda x: x["queue"] is not None))
    assert (task["owner_id"], task["business_status"], task["escalation_level"]) == (
        org.pm, "Escalated", 1)
    late = [h for h in task["history"] if h["action"] == "routing_superseded"]
    # routing did pick the biller; that decision is kept in the history, not applied
    assert [(h["detail"]["owner_id"], h["detail"]["kept_owner_id"]) for h in late] == [(uid(biller), org.pm)]
    assert "routed" not in [h["action"] for h in task["history"]]

    async def workload_moved():  # routing counts the task against the manager, not the biller
        rows = await org.query("routing", "SELECT user_id, active_tasks FROM staff WHERE user_id IN (%s, %s)",
                               uid(biller), org.pm)
        return dict(rows) if dict(rows).get(org.pm) == 1 else None
    assert (await eventually(workload_moved, timeout=30, every=0.2))[uid(biller)] == 0


# -- helpers --


async def _async(value):
    return value


async def _wait_escalation(bus: Bus, org: Org, task_id, level: int, timeout: float = 30):
    async def seen():
        got = escalated(bus, org, task_id, level)
        return got[0] if got else None
    return await eventually(seen, timeout=timeout, every=0.1)


async def _task_with(org: Org, task_id, check):
    t = await org.task(task_id)
    return t if check(t) else None
