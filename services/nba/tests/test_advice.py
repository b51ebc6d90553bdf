"""nba learns from payer interactions (PayerInteractionLogged) on the real PostgreSQL and
Redis: what a payer's representatives advise (the next step of a logged call) raises that
action for the same payer and code, and only there; the same interaction counts once,
however often it is announced; a completed call is 'call payer' tried on its task."""
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from common import events
from common.consumer import handle_now
from common.events.generated import PayerInteractionLogged, TaskCreated
from services.nba import domain, handlers, store, suggest
from services.nba.app import SERVICE
from services.nba.cache import SuggestionCache

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ALL = {**handlers.HANDLERS, **handlers.INTERACTION_HANDLERS}


@pytest.fixture(scope="module")
async def ctx(migrate):
    c = SERVICE.context(migrate(SERVICE))
    yield c
    await c.engine.dispose()


@pytest.fixture
async def cache(ctx):
    c = SuggestionCache(ctx.settings.redis_url, 600)
    yield c
    await c.close()


async def deliver(ctx, payload, org, env=None):
    env = env or events.envelope(payload, org_id=org, producer="test")
    await handle_now(service="nba", sessions=ctx.sessions, outbox=ctx.outbox, processed=ctx.processed,
                     env=env, handler=ALL[type(payload)], via="test")
    return env


def denial(org: str, i: int, payer: str, code: str = "CO-197") -> TaskCreated:
    return TaskCreated(
        task_id=uuid.uuid5(uuid.NAMESPACE_URL, f"advice/{org}/{payer}/{i}"), task_type="Denial",
        priority="High", title="t", due_at=NOW + timedelta(days=30), source_kind="DenialPosted",
        source_id=f"S{payer}{i}", source_module="RCM", payer_id=payer, payer_name=payer.title(),
        payer_class="commercial", reason_codes=[code])


def said(task_id, next_step: str | None, **kw) -> PayerInteractionLogged:
    return PayerInteractionLogged(**{**dict(
        interaction_id=uuid.uuid4(), revision=2, task_id=task_id, channel="voice",
        direction="outbound", status="completed", payer_id="aetna", started_at=NOW,
        next_step=next_step, carc_codes=["CO-197"]), **kw})


async def suggestion(ctx, cache, org, task_id) -> dict:
    pol = suggest.Policy(explore_rate=0.0, rng=random.Random(3))
    return (await suggest.for_tasks(ctx.sessions, ctx.outbox, cache, pol, org, [task_id]))[task_id]


async def test_payer_advice_changes_the_suggestion_for_that_payer_and_code_only(ctx, cache):
    org = f"adv-{uuid.uuid4().hex[:6]}"
    tasks = {p: [denial(org, i, p) for i in range(3)] for p in ("aetna", "cigna")}
    for ts in tasks.values():
        for t in ts:
            await deliver(ctx, t, org)
    before = {p: (await suggestion(ctx, cache, org, ts[0].task_id))["action"] for p, ts in tasks.items()}
    assert before["aetna"] == before["cigna"] != "corrected_claim"  # the table's first step
    # Aetna's representatives say, on two calls: resubmit with a modifier.
    first = said(tasks["aetna"][0].task_id, "Resubmit with modifier 25 on line 2")
    env = await deliver(ctx, first, org)
    await deliver(ctx, first, org, env=env)                                 # redelivered
    await deliver(ctx, first.model_copy(update={"revision": 3}), org)       # announced again
    await deliver(ctx, said(tasks["aetna"][1].task_id, "corrected claim with modifier"), org)
    await deliver(ctx, said(tasks["aetna"][1].task_id, "nothing to do"), org)  # no action named
    async with ctx.sessions() as s:
        advice = await store.advice_for(s, {org}, {"aetna|CARC 197"})
    assert advice == {(org, "aetna|CARC 197"): {"corrected_claim": 2}}
    fresh = denial(org, 9, "aetna")
    await deliver(ctx, fresh, org)
    got = await suggestion(ctx, cache, org, fresh.task_id)
    assert got["action"] == "corrected_claim"
    assert got["reason"].startswith("Aetna's representatives advised this step for CARC 197 (2 times)")
    # Cigna's CARC 197 and Aetna's other codes are untouched.
    assert (await suggestion(ctx, cache, org, tasks["cigna"][2].task_id))["action"] == before["cigna"]
    other = denial(org, 10, "aetna", code="CO-50")
    await deliver(ctx, other, org)
    assert (await suggestion(ctx, cache, org, other.task_id))["action"] != "corrected_claim"
    # Another org's interaction naming this org's task teaches nothing.
    await deliver(ctx, said(tasks["cigna"][0].task_id, "resubmit"), "someone-else")
    async with ctx.sessions() as s:
        assert await store.advice_for(s, {org}, {"cigna|CARC 197"}) == {}


async def test_a_completed_call_counts_as_call_payer_tried(ctx):
    org = f"adv-{uuid.uuid4().hex[:6]}"
    t = denial(org, 1, "aetna")
    await deliver(ctx, t, org)
    await deliver(ctx, said(t.task_id, None), org)
    await deliver(ctx, said(t.task_id, None, status="busy"), org)
    async with ctx.sessions() as s:
        row = (await store.tasks_by_id(s, {t.task_id}))[t.task_id]
    assert list(row.tried) == ["call_payer"]


@pytest.mark.parametrize("text, want", [
    ("Resubmit with modifier 25", "corrected_claim"), ("send a corrected claim", "corrected_claim"),
    ("file an appeal with the op note", "appeal_with_records"), ("peer to peer review", "peer_to_peer"),
    ("need retro auth", "retro_auth"), ("verify eligibility, coverage ended", "verify_eligibility"),
    ("bill the primary payer first", "bill_other_payer"), ("send medical records", "collect_records"),
    ("proof of timely filing", "timely_filing_proof"), ("call_payer", "call_payer"),
    ("Bill patient", "bill_patient"), ("", None), (None, None), ("thanks, bye", None)])
def test_advice_text_names_a_catalogue_action(text, want):
    assert domain.advised_action(text) == want
