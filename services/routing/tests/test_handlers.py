import sqlalchemy as sa

from common import events
from common.consumer import handle_now
from services.gateway.tests.test_handlers import created
from services.routing import handlers, store
from services.routing.app import SERVICE


async def test_a_new_task_goes_to_the_default_queue_once(migrate):
    ctx = SERVICE.context(migrate(SERVICE))
    t = created("org-r", 1)
    for _ in range(2):  # the same task announced twice (new event ids): one decision
        env = events.envelope(t, org_id="org-r", producer="test")
        await handle_now(service="routing", sessions=ctx.sessions, outbox=ctx.outbox,
                         processed=ctx.processed, env=env, handler=handlers.task_created)
    async with ctx.engine.connect() as conn:
        decisions = (await conn.execute(sa.select(store.routed_task))).all()
        out = [events.decode(v) for v in (await conn.execute(sa.select(store.outbox.c.value))).scalars()]
    await ctx.engine.dispose()
    assert [(d.queue, d.owner_id) for d in decisions] == [("default", None)]
    assert [(e.event_type, e.payload.task_id, e.payload.queue) for e in out] == \
        [("TaskRouted", t.task_id, "default")]
    assert "default queue" in out[0].payload.reason


async def test_two_replicas_deciding_at_once_never_overfill_anyone(migrate):
    """Replica A reserves and has not committed when replica B reads the same staff:
    B's reservation waits for A, finds the people A filled at capacity, and decides only
    those tasks again."""
    import asyncio

    from common.uow import UnitOfWork

    ctx = SERVICE.context(migrate(SERVICE))
    org = "org-race"
    async with ctx.sessions() as s, s.begin():
        await store.upsert_staff(s, [
            {"user_id": f"{org}-u{i}", "org_id": org, "roles": ["biller"], "skills": ["Denial"],
             "capacity": 3, "away": False, "active": True} for i in range(2)])
    batch = lambda first: [events.envelope(created(org, i), org_id=org, producer="test")  # noqa: E731
                           for i in range(first, first + 3)]
    a = ctx.sessions()
    await a.begin()
    await handlers.task_created(batch(0), UnitOfWork(a, producer="routing", outbox=ctx.outbox))
    async with ctx.sessions() as b, b.begin():
        replica_b = asyncio.create_task(handlers.task_created(
            batch(10), UnitOfWork(b, producer="routing", outbox=ctx.outbox)))
        await asyncio.sleep(0.5)
        assert not replica_b.done()  # waiting on A's reservation
        await a.commit()
        await a.close()
        await replica_b
    async with ctx.engine.connect() as conn:
        load = dict((await conn.execute(sa.select(store.staff.c.user_id, store.staff.c.active_tasks)
                                        .where(store.staff.c.org_id == org))).all())
        owners = [r.owner_id for r in (await conn.execute(
            sa.select(store.routed_task).where(store.routed_task.c.org_id == org))).all()]
    await ctx.engine.dispose()
    assert sorted(load.values()) == [3, 3]  # both full, nobody over capacity
    assert len(owners) == 6 and sum(o is None for o in owners) == 0
    assert {o: owners.count(o) for o in owners} == load


async def test_a_redelivered_task_is_routed_once_without_the_event_ledger(migrate):
    """TaskCreated skips the consumer's event ledger (routed_task is keyed by task):
    the same record delivered in two polls, and twice in one poll, makes one decision."""
    from aiokafka import ConsumerRecord

    from common.consumer import Consumer

    ctx = SERVICE.context(migrate(SERVICE))
    consumer = Consumer(service="routing", kafka=None, sessions=ctx.sessions, outbox=ctx.outbox,
                        processed=ctx.processed, subscriptions=SERVICE.subscriptions)
    env = events.envelope(created("org-redeliver", 7), org_id="org-redeliver", producer="test")
    record = ConsumerRecord("tasks.events.v1", 0, 0, 0, 0, b"k", events.encode(env), None, 0, 0,
                            env.headers)
    await consumer._process_batch([record, record], set(), False)
    await consumer._process_batch([record], set(), False)
    async with ctx.engine.connect() as conn:
        decisions = (await conn.execute(sa.select(store.routed_task.c.task_id).where(
            store.routed_task.c.org_id == "org-redeliver"))).scalars().all()
        out = [events.decode(v) for v in (await conn.execute(sa.select(store.outbox.c.value)))
               .scalars()]
        ledger = (await conn.execute(sa.select(sa.func.count()).where(
            store.processed_event.c.event_id == env.event_id))).scalar()
    await ctx.engine.dispose()
    assert decisions == [env.payload.task_id]
    assert [e.event_type for e in out if e.org_id == "org-redeliver"] == ["TaskRouted"]
    assert ledger == 0


async def test_org_ids_with_commas_and_quotes_reach_postgresql_whole(migrate):
    ctx = SERVICE.context(migrate(SERVICE))
    odd = ['acme, "inc"', "back\\slash", "{braces}"]
    async with ctx.sessions() as s, s.begin():
        await store.upsert_staff(s, [{"user_id": f"u-{i}", "org_id": o, "roles": ["biller"],
                                      "skills": [], "capacity": 5, "away": False,
                                      "active": True} for i, o in enumerate(odd)])
        snap = await store.snapshot(s, set(odd))
    await ctx.engine.dispose()
    assert set(snap.versions) == set(odd) and all(v[0] for v in snap.versions.values())
    assert sorted((u, o) for o, u, _, _ in snap.loads) == [("u-0", odd[0]), ("u-1", odd[1]),
                                                          ("u-2", odd[2])]
