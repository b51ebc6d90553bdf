"""Payer call and message requests on the real PostgreSQL: each becomes one interaction
(the same request twice is one), announced as PayerInteractionLogged without body, number
or address; no number, no phone to ring, an invalid address or no consent refuse it at once,
and the refusal is recorded and announced with its reason."""
import json
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from common import events
from common.consumer import handle_now
from common.events.generated import CallRequested, MessageRequested, UserUpserted
from services.payer_comms import handlers
from services.payer_comms.app import SERVICE
from services.payer_comms.interactions import directory, store
from services.payer_comms.interactions import handlers as ih

ALL = {**handlers.HANDLERS, **handlers.DIRECTORY_HANDLERS, **ih.HANDLERS}


@pytest.fixture(scope="module")
async def ctx(migrate):
    settings = migrate(SERVICE)
    await directory.seed(settings, directory.read(directory.BUILT_IN))
    c = SERVICE.context(settings)
    yield c
    await c.engine.dispose()


async def deliver(ctx, payload, org):
    env = events.envelope(payload, org_id=org, producer="test")
    return await handle_now(service="payer_comms", sessions=ctx.sessions, outbox=ctx.outbox,
                            processed=ctx.processed, env=env, handler=ALL[type(payload)], via="test")


async def logged(ctx, interaction_id) -> list:
    async with ctx.sessions() as s:
        rows = (await s.execute(sa.select(ctx.outbox.c.key, ctx.outbox.c.topic, ctx.outbox.c.value)
                                .order_by(ctx.outbox.c.id))).all()
    out = []
    for key, topic, value in rows:
        e = events.decode(value)
        if e.event_type == "PayerInteractionLogged" and e.payload.interaction_id == interaction_id:
            out.append(SimpleNamespace(key=key.decode(), topic=topic, payload=e.payload))
    return out


async def staffed(ctx, phone="+15555550199") -> str:
    org = f"pi-{uuid.uuid4().hex[:6]}"
    await deliver(ctx, UserUpserted(user_id="biller", name="B", roles=["biller"],
                                    email="b@clinic.test", phone=phone), org)
    return org


async def test_a_call_to_a_payers_line_is_queued_once_and_announced_without_numbers(ctx):
    org = await staffed(ctx)
    req = CallRequested(interaction_id=uuid.uuid4(), task_id=uuid.uuid4(), user_id="biller",
                        payer_id="aetna", claim_number="CLM-1")
    await deliver(ctx, req, org)
    await deliver(ctx, req, org)  # again (a duplicate on the bus): one interaction
    async with ctx.sessions() as s:
        row = await store.interaction_by_id(s, req.interaction_id)
    assert (row.status, row.counterpart, row.staff_number, row.channel) == (
        "pending", "+18005550101", "+15555550199", "voice")
    got = await logged(ctx, req.interaction_id)
    assert len(got) == 1 and got[0].payload.status == "pending" and got[0].payload.revision == 1
    assert (got[0].key, got[0].topic) == (str(req.task_id), "payer.interactions.v1")
    text = json.dumps(got[0].payload.model_dump(mode="json"))
    assert "+1800" not in text and "+1555" not in text


@pytest.mark.parametrize("case, want", [
    ("no consent", "no consent on record to call this number"),
    ("not a number", "the number to call is not a phone number"),
    ("no line", "the payer directory has no provider-services number"),
    ("no phone", "you have no phone number on your profile"),
])
async def test_a_call_that_cannot_be_placed_is_refused_and_the_refusal_logged(ctx, case, want):
    org = await staffed(ctx, phone=None if case == "no phone" else "+15555550199")
    to = {"no consent": "+15555550123", "not a number": "call me"}.get(case)
    req = CallRequested(interaction_id=uuid.uuid4(), task_id=uuid.uuid4(), user_id="biller",
                        payer_id="no-such-payer" if case == "no line" else "aetna", to_number=to)
    await deliver(ctx, req, org)
    [e] = await logged(ctx, req.interaction_id)
    assert e.payload.status == "refused" and want in e.payload.refusal, e.payload.refusal
    assert e.payload.ended_at is not None


async def test_consent_on_record_allows_a_call_until_it_is_revoked(ctx):
    org = await staffed(ctx)
    number, now = "+15555550124", datetime.now(UTC)
    async with ctx.sessions() as s, s.begin():
        await store.add_consent(s, org_id=org, number=number, channel="voice", source="written form",
                                given_at=now - timedelta(days=1))
    ok = CallRequested(interaction_id=uuid.uuid4(), task_id=uuid.uuid4(), user_id="biller",
                       payer_id="aetna", to_number="(555) 555-0124")
    await deliver(ctx, ok, org)
    assert (await logged(ctx, ok.interaction_id))[0].payload.status == "pending"
    async with ctx.sessions() as s, s.begin():
        assert await store.revoke_consents(s, org_id=org, number=number, channel=None,
                                           at=datetime.now(UTC), by="biller") == 1
    no = CallRequested(interaction_id=uuid.uuid4(), task_id=uuid.uuid4(), user_id="biller",
                       payer_id="aetna", to_number=number)
    await deliver(ctx, no, org)
    [e] = await logged(ctx, no.interaction_id)
    assert e.payload.status == "refused" and "revoked" in e.payload.refusal


async def test_messages_carry_the_task_reference_and_sms_needs_consent(ctx):
    org = await staffed(ctx)
    task = uuid.uuid4()
    mail = MessageRequested(interaction_id=uuid.uuid4(), task_id=task, user_id="biller",
                            payer_id="cigna", channel="email", subject="Appeal status",
                            body="Please confirm receipt of our appeal.")
    sms = MessageRequested(interaction_id=uuid.uuid4(), task_id=task, user_id="biller",
                           payer_id="cigna", channel="sms", body="Status of claim CLM-9?")
    mobile = MessageRequested(interaction_id=uuid.uuid4(), task_id=task, user_id="biller",
                              payer_id="cigna", channel="sms", body="hi", to_address="+15555550125")
    bad = MessageRequested(interaction_id=uuid.uuid4(), task_id=task, user_id="biller",
                           payer_id="cigna", channel="email", body="x", to_address="not an address")
    fax = MessageRequested(interaction_id=uuid.uuid4(), task_id=task, user_id="biller",
                           payer_id="cigna", channel="fax", body="x")
    for m in (mail, sms, mobile, bad, fax):
        await deliver(ctx, m, org)
    async with ctx.sessions() as s:
        rows = {r.id: r for r in await store.of_task(s, org, task)}
    ref = f"[WQ-{str(task)[:8]}]"
    assert rows[mail.interaction_id].subject == f"Appeal status {ref}"
    assert rows[mail.interaction_id].counterpart == "provider-services@cigna.payer.test"
    assert rows[sms.interaction_id].body == f"Status of claim CLM-9? {ref}"
    assert rows[sms.interaction_id].status == "pending"  # the payer's business line
    assert (rows[mobile.interaction_id].status, rows[bad.interaction_id].status,
            rows[fax.interaction_id].status) == ("refused",) * 3
    assert "no consent on record to text" in rows[mobile.interaction_id].refusal
    assert rows[bad.interaction_id].refusal == "the e-mail address to send to is not valid"
    assert rows[fax.interaction_id].refusal.startswith("unknown channel 'fax'")
    for m in (mail, sms):
        [e] = await logged(ctx, m.interaction_id)
        assert "confirm receipt" not in e.payload.model_dump_json()
        assert "CLM-9" not in e.payload.model_dump_json() and e.payload.summary is None


async def test_an_org_override_wins_over_the_built_in_directory(ctx):
    org = await staffed(ctx)
    entry = directory.PayerEntry(payer_id="aetna", name="Aetna (our rep)", phone="800-555-0177")
    async with ctx.sessions() as s, s.begin():
        await store.upsert_payers(s, [{"org_id": org, **entry.model_dump()}])
    async with ctx.sessions() as s:
        mine = await store.payer_entry(s, org, "aetna")
        theirs = await store.payer_entry(s, "another-org", "aetna")
        listed = {p.payer_id: p.name for p in await store.payers_of(s, org)}
    assert (mine.phone, theirs.phone) == ("+18005550177", "+18005550101")
    assert listed["aetna"] == "Aetna (our rep)" and len(listed) == 8
    for bad in ({"phone": "call me"}, {"portal_url": "http://x"}, {"time_zone": "Mars/Base"}):
        with pytest.raises(ValueError):
            directory.PayerEntry(payer_id="x", name="X", **bad)
