"""The monitor's handlers and sweep on the real PostgreSQL: clocks start, pause, resume and
stop; each rung fires once; alerts name the right people; maintenance suppresses alerts."""
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from common import events
from common.consumer import handle_now
from common.events.generated import SlaPolicyChanged, TaskCreated, TaskStatusChanged, UserUpserted
from common.uow import UnitOfWork
from services.sla_monitor import clock, handlers, store
from services.sla_monitor.app import SERVICE

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
async def ctx(migrate):
    c = SERVICE.context(migrate(SERVICE))
    clock.use(None)
    yield c
    await c.engine.dispose()


async def deliver(ctx, payload, org):
    env = events.envelope(payload, org_id=org, producer="test")
    handler = {**handlers.HANDLERS, **handlers.DIRECTORY_HANDLERS}[type(payload)]
    await handle_now(service="sla_monitor", sessions=ctx.sessions, outbox=ctx.outbox,
                     processed=ctx.processed, env=env, handler=handler, via="test")


def task(i: int, org: str, due: datetime, **kw) -> TaskCreated:
    return TaskCreated(**{**dict(task_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{org}/{i}"),
                                 task_type="Denial", priority="High", title="t", due_at=due,
                                 source_kind="DenialPosted", source_id=f"S{i}", source_module="RCM",
                                 payer_id="aetna"), **kw})


def status(t: TaskCreated, frm: str, to: str, business_status=None) -> TaskStatusChanged:
    return TaskStatusChanged(task_id=t.task_id, from_status=frm, to_status=to, actor_id="u1",
                             task_type=t.task_type, business_status=business_status)


async def sweep(ctx, now: datetime, org: str) -> list:
    """Run the sweep at ``now``; return the events it wrote for one org (and clear the
    outbox: the tests share a database, so other orgs' clocks fire too)."""
    async with ctx.sessions() as s, s.begin():
        uow = UnitOfWork(s, producer="sla_monitor", outbox=ctx.outbox)
        while await handlers.escalate_due(uow, now, 2) == 2:
            pass
        await uow.finish()
    async with ctx.sessions() as s, s.begin():
        values = (await s.execute(sa.delete(store.outbox).returning(store.outbox.c.value))).scalars()
        return [e for e in map(events.decode, values)
                if e.org_id == org and e.event_type != "SlaDeadlineChanged"]


async def deadlines(ctx, task_id) -> list:
    """SlaDeadlineChanged events waiting in the outbox for one task."""
    async with ctx.sessions() as s:
        values = (await s.execute(sa.select(store.outbox.c.value).order_by(store.outbox.c.id))).scalars()
    return [e.payload for e in map(events.decode, values)
            if e.event_type == "SlaDeadlineChanged" and e.payload.task_id == task_id]


async def staff(ctx, org):
    for uid, role in (("pm1", "practice_manager"), ("admin1", "org_admin"), ("b1", "biller")):
        await deliver(ctx, UserUpserted(user_id=uid, name=uid, roles=[role]), org)


async def test_on_time_once_level_2_and_done_tasks_never(ctx):
    org = f"o-{uuid.uuid4().hex[:6]}"
    await staff(ctx, org)
    late, done = task(1, org, NOW + timedelta(minutes=5)), task(2, org, NOW + timedelta(minutes=5))
    for t in (late, done):
        await deliver(ctx, t, org)
    await deliver(ctx, status(done, "requested", "in-progress"), org)
    await deliver(ctx, status(done, "in-progress", "completed"), org)
    assert await sweep(ctx, NOW + timedelta(minutes=4), org) == []
    out = await sweep(ctx, NOW + timedelta(minutes=5), org)
    esc = [e.payload for e in out if e.event_type == "TaskEscalated"]
    alerts = [e.payload for e in out if e.event_type == "AlertRequested"]
    assert [(e.task_id, e.level, e.escalated_to_user_id, e.escalated_to_role) for e in esc] == \
        [(late.task_id, 1, "pm1", "practice_manager")]
    assert [(a.alert_id, a.recipient_user_ids, a.level) for a in alerts] == \
        [(esc[0].escalation_id, ["pm1"], 1)]
    assert "DOE" not in alerts[0].body and str(late.task_id) in alerts[0].body
    assert await sweep(ctx, NOW + timedelta(hours=2), org) == []  # level 1 fires once
    out = await sweep(ctx, NOW + timedelta(minutes=5, hours=24), org)
    assert [(e.event_type, e.payload.level) for e in out] == [("TaskEscalated", 2), ("AlertRequested", 2)]
    assert out[0].payload.escalated_to_user_id == "admin1"
    assert await sweep(ctx, NOW + timedelta(days=30), org) == []


async def test_pause_and_resume_move_the_deadline(ctx):
    org = f"o-{uuid.uuid4().hex[:6]}"
    t = task(1, org, NOW + timedelta(hours=1))
    await deliver(ctx, t, org)
    await deliver(ctx, status(t, "requested", "in-progress"), org)
    await deliver(ctx, status(t, "in-progress", "on-hold"), org)
    async with ctx.sessions() as s:
        paused_at = (await store.clocks(s, [t.task_id]))[t.task_id].paused_at
    assert await sweep(ctx, NOW + timedelta(hours=3), org) == []  # on hold: nothing fires
    await deliver(ctx, status(t, "on-hold", "in-progress"), org)
    async with ctx.sessions() as s:
        c = (await store.clocks(s, [t.task_id]))[t.task_id]
    left = (t.due_at - paused_at)
    assert c.paused_at is None and c.next_stage == 1
    assert abs((c.due_at - (datetime.now(UTC) + left)).total_seconds()) < 5
    # the gateway is told (no policy: the task's own deadline moved)
    assert [(d.reason, d.paused_at is not None) for d in await deadlines(ctx, t.task_id)] == \
        [("resumed", False)]  # the sweep above took the "paused" one out of the outbox
    assert (await deadlines(ctx, t.task_id))[-1].due_at == c.due_at


async def test_policies_re_deadline_and_maintenance_suppresses_alerts_not_escalations(ctx):
    org = f"o-{uuid.uuid4().hex[:6]}"
    await staff(ctx, org)
    t = task(1, org, NOW + timedelta(minutes=1))
    await deliver(ctx, t, org)
    # a policy that gives denials 10 days: the old deadline no longer fires
    await deliver(ctx, SlaPolicyChanged(version=1, changed_by="pm1", policies_json=json.dumps(
        [{"id": "denials", "task_type": "Denial", "deadline_hours": 240}])), org)
    [moved] = await deadlines(ctx, t.task_id)
    assert (moved.reason, moved.policy_id, moved.due_soon_hours) == ("policy-changed", "denials", 48)
    assert await sweep(ctx, NOW + timedelta(days=1), org) == []
    # an older version arriving late changes nothing
    await deliver(ctx, SlaPolicyChanged(version=0, changed_by="pm1", policies_json="[]"), org)
    window = {"id": "aetna-down", "payer_id": "aetna",
              "starts_at": (NOW + timedelta(days=9)).isoformat(),
              "ends_at": (NOW + timedelta(days=12)).isoformat()}
    await deliver(ctx, SlaPolicyChanged(version=2, changed_by="pm1", policies_json=json.dumps(
        [{"id": "denials", "task_type": "Denial", "deadline_hours": 240}]),
        maintenance_json=json.dumps([window])), org)
    # the policy's 10 days run from when the monitor first saw the task (now, not NOW: the
    # module was imported minutes ago when the whole suite runs)
    out = await sweep(ctx, datetime.now(UTC) + timedelta(days=10, minutes=1), org)
    esc = next(e.payload for e in out if e.event_type == "TaskEscalated")
    alert = next(e.payload for e in out if e.event_type == "AlertRequested")
    assert esc.policy_id == "denials" and esc.policy_version == 2
    assert esc.alert_suppressed == "aetna-down" and alert.suppressed_by == "aetna-down"
    async with ctx.sessions() as s:
        rows = (await s.execute(sa.select(store.escalation).where(store.escalation.c.task_id == t.task_id))).all()
    assert [(r.stage, r.alert_suppressed) for r in rows] == [(1, "aetna-down")]


async def test_a_warning_goes_to_the_owner_before_the_deadline_and_an_appeal_is_flagged(ctx):
    org = f"o-{uuid.uuid4().hex[:6]}"
    await staff(ctx, org)
    await deliver(ctx, SlaPolicyChanged(version=1, changed_by="pm1", policies_json=json.dumps(
        [{"id": "d", "task_type": "Denial", "deadline_hours": 10, "warn_before_hours": 2}])), org)
    t = task(1, org, NOW + timedelta(days=30))
    await deliver(ctx, t, org)
    await deliver(ctx, status(t, "requested", "in-progress", "Appeal submitted").model_copy(
        update={"owner_id": "b1"}), org)
    out = await sweep(ctx, datetime.now(UTC) + timedelta(hours=8, minutes=1), org)
    assert [(e.event_type, e.payload.kind, e.payload.recipient_user_ids) for e in out] == \
        [("AlertRequested", "warning", ["b1"])]
    out = await sweep(ctx, datetime.now(UTC) + timedelta(hours=10, minutes=1), org)
    assert out[0].event_type == "TaskEscalated" and out[0].payload.appeal is True


async def test_two_sweepers_never_fire_a_rung_twice(ctx):
    """Concurrent sweeps (two replicas, or a restart mid-sweep) split the due clocks."""
    import asyncio

    org = f"o-{uuid.uuid4().hex[:6]}"
    await staff(ctx, org)
    for i in range(40):
        await deliver(ctx, task(i, org, NOW - timedelta(minutes=1)), org)

    async def one():
        async with ctx.sessions() as s, s.begin():
            uow = UnitOfWork(s, producer="sla_monitor", outbox=ctx.outbox)
            n = 0
            while (k := await handlers.escalate_due(uow, NOW, 5)):
                n += k
            await uow.finish()
            return n

    counts = await asyncio.gather(one(), one(), one())
    assert sum(counts) >= 40
    async with ctx.sessions() as s, s.begin():
        rows = (await s.execute(sa.select(store.escalation.c.task_id, sa.func.count()).where(
            store.escalation.c.org_id == org).group_by(store.escalation.c.task_id))).all()
        await s.execute(sa.delete(store.outbox))
    assert len(rows) == 40 and {n for _, n in rows} == {1}
