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
        decisions = (await conn.execute(sa.select(store.decision))).all()
        out = [events.decode(v) for v in (await conn.execute(sa.select(store.outbox.c.value))).scalars()]
    await ctx.engine.dispose()
    assert [(d.queue, d.owner_id) for d in decisions] == [("default", None)]
    assert [(e.event_type, e.payload.task_id, e.payload.queue) for e in out] == \
        [("TaskRouted", t.task_id, "default")]
    assert "default queue" in out[0].payload.reason
