"""The learning test: a payer-behaviour simulator with hidden success rates per (payer,
reason, action) replays 2,000 denials through the real services — denials published to the
bus, suggestions read through the gateway, decisions and resolutions made through the
gateway's API — and the learnt policy's resolution rate is compared with the static CARC
table's on the same stream (the same random draws decide both)."""
from __future__ import annotations

import asyncio
import random
import time
import uuid
from decimal import Decimal

import httpx
import psycopg
import pytest

from services.intake.domain import task_id_for
from services.nba import domain
from tests.integration.conftest import auth, denial, eventually, publish

pytestmark = pytest.mark.integration

N = 2000
ROUND = 200
PAYERS = {  # payer → class
    "aetna": "commercial", "cigna": "commercial", "medicare-b": "medicare", "medicaid-tx": "medicaid"}
# Hidden success rates. The table's first choice (appeal, retro auth, corrected claim,
# write-off) is the best one for some payers only.
TRUTH = {
    "aetna": {"CO-50": {"appeal_with_records": .30, "peer_to_peer": .75, "collect_records": .20},
              "CO-197": {"retro_auth": .25, "appeal_with_records": .65, "call_payer": .20,
                         "write_off_contractual": .10},
              "CO-16": {"corrected_claim": .70, "collect_records": .30, "call_payer": .20},
              "CO-29": {"write_off_contractual": .40, "timely_filing_proof": .70, "call_payer": .10}},
    "cigna": {"CO-50": {"appeal_with_records": .70, "peer_to_peer": .35, "collect_records": .20},
              "CO-197": {"retro_auth": .60, "appeal_with_records": .30, "call_payer": .20,
                         "write_off_contractual": .10},
              "CO-16": {"corrected_claim": .30, "collect_records": .70, "call_payer": .20},
              "CO-29": {"write_off_contractual": .50, "timely_filing_proof": .30, "call_payer": .10}},
    "medicare-b": {"CO-50": {"appeal_with_records": .60, "peer_to_peer": .20, "collect_records": .30},
                   "CO-197": {"retro_auth": .20, "appeal_with_records": .30, "call_payer": .55,
                              "write_off_contractual": .10},
                   "CO-16": {"corrected_claim": .75, "collect_records": .30, "call_payer": .20},
                   "CO-29": {"write_off_contractual": .60, "timely_filing_proof": .20,
                             "call_payer": .10}},
    "medicaid-tx": {"CO-50": {"appeal_with_records": .25, "peer_to_peer": .65, "collect_records": .30},
                    "CO-197": {"retro_auth": .70, "appeal_with_records": .30, "call_payer": .20,
                               "write_off_contractual": .10},
                    "CO-16": {"corrected_claim": .35, "collect_records": .30, "call_payer": .65},
                    "CO-29": {"write_off_contractual": .30, "timely_filing_proof": .65,
                              "call_payer": .10}},
}


def best(payer: str, code: str) -> str:
    rates = TRUTH[payer][code]
    return max(rates, key=rates.get)


def table_action(payer: str, code: str) -> str:
    return domain.table_choice(domain.Facts("Denial", payer_id=payer, payer_class=PAYERS[payer],
                                            reason_codes=(code,)))


async def learnt_outcomes(stack, org: str) -> int:
    url = f"postgresql://postgres@127.0.0.1:5432/{stack.db_prefix}nba"
    async with await psycopg.AsyncConnection.connect(url) as conn:
        row = await (await conn.execute(
            "SELECT coalesce(sum(successes + failures), 0) FROM action_stat "
            "WHERE org_id = %s AND level = 1", (org,))).fetchone()
    return int(row[0])


@pytest.mark.timeout(900)
async def test_the_learnt_policy_beats_the_static_table(stack, producer):
    org = f"sim-{uuid.uuid4().hex[:8]}"
    rng = random.Random(20261123)
    stream = [(rng.choice(list(PAYERS)), rng.choice(["CO-50", "CO-197", "CO-16", "CO-29"]),
               rng.random(), rng.random()) for _ in range(N)]
    headers = await asyncio.to_thread(auth, stack, org)
    learnt_good = static_good = 0
    suggested_best: list[bool] = []
    exploring = 0
    sem = asyncio.Semaphore(4)  # the gateway API is CPU-bound: more only holds connections
    t0 = time.monotonic()
    async with httpx.AsyncClient(base_url=stack["gateway-api"].url, headers=headers,
                                 timeout=30) as c:

        async def work(task: dict, payer: str, code: str, u: float, v: float) -> bool:
            """One biller's turn: decide on the suggestion, do the action, record the outcome."""
            s = task["suggestion"]
            action = s["action"]
            body = {"suggestion_id": s["suggestion_id"], "decision": "accepted"}
            if v < 0.1:  # now and then the biller knows better (or thinks so)
                action = rng.choice([a for a in TRUTH[payer][code] if a != s["action"]])
                body = {**body, "decision": "modified", "action": action}
            good = u < TRUTH[payer][code][action]
            async with sem:
                r = await c.post(f"/api/v1/tasks/{task['id']}/suggestion/decision", json=body)
                assert r.status_code == 200, r.text
                r = await c.post(f"/api/v1/tasks/{task['id']}/status", json={"status": "in-progress"},
                                 headers={"If-Match": f'W/"{task["version"]}"'})
                if r.status_code == 412:  # routed again since it was read: use what is current
                    r = await c.post(f"/api/v1/tasks/{task['id']}/status",
                                     json={"status": "in-progress"},
                                     headers={"If-Match": r.headers["ETag"]})
                assert r.status_code == 200, r.text
                end = ({"status": "completed", "business_status": rng.choice(["overturned", "paid"])}
                       if good else {"status": "failed", "business_status": "denied-upheld"})
                r = await c.post(f"/api/v1/tasks/{task['id']}/status", json=end,
                                 headers={"If-Match": r.headers["ETag"]})
                assert r.status_code == 200, r.text
            return good

        for start in range(0, N, ROUND):
            chunk = stream[start:start + ROUND]
            t_round = time.monotonic()
            sources = [f"SIM-{org}-{start + i}" for i in range(len(chunk))]
            await publish(producer, [
                denial(source_id=src, claim_id=src, payer_id=payer, payer_name=payer.title(),
                       payer_class=PAYERS[payer], carc_codes=[code], amount=Decimal("900.00"))
                for src, (payer, code, _, _) in zip(sources, chunk, strict=True)], org)
            ids = [str(task_id_for(org, "DenialPosted", s)) for s in sources]

            async def suggested(ids=ids):
                got = {}
                for i in range(0, len(ids), 200):
                    r = await c.get("/api/v1/tasks", params={"id": ids[i:i + 200]})
                    got.update({t["id"]: t for t in r.json() if t["suggestion"] and t["queue"]})
                return got if len(got) == len(ids) else None

            tasks = await eventually(suggested, timeout=60, every=0.3)
            t_work = time.monotonic()
            results = await asyncio.gather(*[
                work(tasks[tid], payer, code, u, v)
                for tid, (payer, code, u, v) in zip(ids, chunk, strict=True)])
            learnt_good += sum(results)
            for tid, (payer, code, u, _) in zip(ids, chunk, strict=True):
                s = tasks[tid]["suggestion"]
                suggested_best.append(s["action"] == best(payer, code))
                exploring += s["exploring"]
                static_good += u < TRUTH[payer][code][table_action(payer, code)]
            done = start + len(chunk)

            async def caught_up(done=done):
                return await learnt_outcomes(stack, org) >= done

            t_learn = time.monotonic()
            await eventually(caught_up, timeout=60, every=0.2)
            print(f"  round {start // ROUND + 1}: {t_work - t_round:.1f} s to suggestions, "
                  f"{t_learn - t_work:.1f} s decisions and resolutions, "
                  f"{time.monotonic() - t_learn:.1f} s until learnt", flush=True)
    elapsed = time.monotonic() - t0
    learnt_rate, static_rate = learnt_good / N, static_good / N
    q = N // 4
    first, last = sum(suggested_best[:q]) / q, sum(suggested_best[-q:]) / q
    oracle = sum(TRUTH[p][c][best(p, c)] for p, c, _, _ in stream) / N
    print(f"\nnba simulation: {N} denials, {len(PAYERS)} payers x 4 CARCs, {elapsed:.0f} s through "
          "the real services")
    print(f"  resolution rate, learnt policy:     {learnt_rate:.3f}")
    print(f"  resolution rate, static CARC table: {static_rate:.3f}")
    print(f"  margin:                             {learnt_rate - static_rate:+.3f} "
          f"({(learnt_rate / static_rate - 1):+.0%}); always-best oracle {oracle:.3f}")
    print(f"  suggestions that are the true best action: first quarter {first:.0%}, "
          f"last quarter {last:.0%}")
    print(f"  exploring suggestions: {exploring / N:.1%}")
    assert learnt_rate - static_rate >= 0.05, "the learnt policy does not clearly beat the table"
    assert last >= first + 0.2 and last >= 0.7, "suggestions do not concentrate on the best action"
