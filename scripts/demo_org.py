"""Load a realistic demo org: its staff (roles and skills) into the gateway, and upstream
source events published to Kafka, as the RCM would.

    python scripts/demo_org.py [--org demo-clinic] [--denials 300]
"""
from __future__ import annotations

import argparse
import asyncio
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from faker import Faker

from common import events, kafka, topics
from common.events.generated import (
    ClaimStatusChanged,
    CosignRequested,
    DenialPosted,
    PayerFollowUpDue,
    PriorAuthDecided,
    ReferralAuthRequested,
    RxRenewalRequested,
    TaskRequested,
)
from common.settings import CommonSettings

PAYERS = [  # (id, name, class)
    ("aetna", "Aetna", "commercial"), ("uhc", "UnitedHealthcare", "commercial"),
    ("bcbs-tx", "Blue Cross Blue Shield of Texas", "commercial"), ("cigna", "Cigna", "commercial"),
    ("medicare-b", "Medicare Part B (Novitas)", "medicare"),
    ("tx-medicaid", "Texas Medicaid & Healthcare Partnership", "medicaid"),
    ("twcc", "Texas Mutual (Workers' Comp)", "workers_comp"), ("tricare", "TRICARE East", "tricare"),
]
CARC = [  # (code, weight): the reasons practices see most
    ("CO-197", 14), ("CO-50", 10), ("CO-16", 12), ("CO-29", 5), ("CO-18", 6), ("PR-27", 5),
    ("CO-45", 8), ("CO-97", 6), ("CO-4", 5), ("CO-11", 4), ("CO-167", 3), ("PR-1", 3),
]
RARC = ["N386", "M127", "N290", "MA130", "N30", "M20", "N479"]
CPT = ["99213", "99214", "99215", "93000", "71046", "80053", "97110", "20610", "45378", "27447",
       "64483", "J1100", "G0439"]
ICD = ["E11.9", "I10", "M54.5", "J44.9", "E78.5", "N18.3", "F41.1", "M17.11", "Z00.00", "R07.9"]


STAFF = [  # (role, skills) — a small practice's revenue-cycle and care team; the skills
    # match the default routing rules (SeniorBiller, GovernmentPayers, WorkersComp, ...)
    ("practice_manager", []), ("org_admin", []),
    ("senior_biller", ["Denial", "SeniorBiller", "commercial", "appeals"]),
    ("biller", ["Denial", "GovernmentPayers", "medicare", "medicaid"]),
    ("biller", ["Denial", "WorkersComp", "workers_comp"]),
    ("biller", ["Denial", "Follow-up", "Claim Status", "EscalationTeam"]),
    ("biller", ["Denial", "ComplexCoding", "commercial"]),
    ("biller", ["Denial", "Follow-up", "Claim Status", "commercial"]),
    ("nurse", ["Prior Auth", "Referral", "RxRenewal"]),
    ("nurse", ["Prior Auth", "Care Coordination", "Spanish"]),
    ("physician", ["Co-sign", "RxRenewal", "cardiology"]),
    ("care_coordinator", ["Care Coordination", "CCM", "PCM"]),
    ("care_coordinator", ["Care Coordination", "CCM", "Spanish"]),
    ("billing_admin", ["Claim Status"]),
]
DEMO_PASSWORD = "demo-password-1"


def staff(org: str, fake: Faker) -> dict:
    users = []
    for i, (role, skills) in enumerate(STAFF):
        first, last = fake.first_name(), fake.last_name()
        email = f"{role.replace('_', '.')}{'' if i < 2 else i}@{org}.test"
        users.append({"org_id": org, "email": email, "name": f"{first} {last}",
                      "password": DEMO_PASSWORD, "roles": [role], "skills": skills,
                      "capacity": 80, "phone": f"+1512555{100 + i:04d}"})  # 555-01xx: fictional
    return {"orgs": [{"id": org, "name": org.replace("-", " ").title()}], "users": users}


def denial(fake: Faker, rng: random.Random, today: date, n: int) -> DenialPosted:
    payer = rng.choice(PAYERS)
    service = today - timedelta(days=rng.randint(20, 200))
    codes, weights = zip(*CARC, strict=False)
    carc = rng.choices(codes, weights)[0]
    amount = Decimal(rng.choice([rng.uniform(80, 900), rng.uniform(900, 6000),
                                 rng.uniform(6000, 28000)])).quantize(Decimal("0.01"))
    return DenialPosted(
        source_id=f"DEN-{today:%Y%m}-{n:05d}",
        claim_id=f"CLM-{service:%Y}-{rng.randint(100000, 999999)}",
        payer_id=payer[0], payer_name=payer[1], payer_class=payer[2],
        patient_id=f"PT-{rng.randint(10000, 99999)}",
        patient_name=f"{fake.last_name().upper()}, {fake.first_name()}",
        amount=amount, service_date=service,
        denied_on=service + timedelta(days=rng.randint(14, 45)),
        carc_codes=[carc], rarc_codes=rng.sample(RARC, rng.randint(0, 2)),
        cpt_codes=rng.sample(CPT, rng.randint(1, 3)), icd_codes=rng.sample(ICD, rng.randint(1, 2)),
        timely_filing_deadline=service + timedelta(days=rng.choice([90, 180, 365])),
    )


DRUGS = [("Lisinopril 10 mg", None), ("Metformin 500 mg", None), ("Atorvastatin 40 mg", None),
         ("Oxycodone 5 mg", "II"), ("Alprazolam 0.5 mg", "IV"), ("Levothyroxine 50 mcg", None),
         ("Sertraline 50 mg", None), ("Gabapentin 300 mg", "V")]
SERVICES = [("MRI lumbar spine", "72148"), ("CT abdomen with contrast", "74160"),
            ("Total knee arthroplasty", "27447"), ("Sleep study", "95810"),
            ("Echocardiogram", "93306"), ("Physical therapy, 12 visits", "97110")]
SPECIALTIES = [("Cardiology", "Heart & Vascular Center"), ("Orthopedics", "Bone & Joint Clinic"),
               ("Endocrinology", "Diabetes Center"), ("Neurology", "NeuroCare Associates"),
               ("Gastroenterology", "Digestive Health")]
CCM_TASKS = ["CCM: Care Plan Monthly OPEN", "CCM: Care Plan Monthly REVIEW/CLOSE",
             "PCM: Care Plan Monthly OPEN", "CCM: CareGap Review/Coordination",
             "Care Coordination: Specialist Appts", "Care Coordination: Pharmacy"]


def others(fake: Faker, rng: random.Random, today: date, n: int,
           physician_id: str = "dr-1") -> list:
    """n source events of each kind but denials, as the eRx, clinical, referral and
    billing modules would send them."""
    out = []
    for i in range(n):
        payer = rng.choice(PAYERS)
        pt = {"patient_id": f"PT-{rng.randint(10000, 99999)}",
              "patient_name": f"{fake.last_name().upper()}, {fake.first_name()}"}
        py = {"payer_id": payer[0], "payer_name": payer[1], "payer_class": payer[2]}
        svc = rng.choice(SERVICES)
        out.append(PriorAuthDecided(
            source_id=f"PA-{today:%Y%m}-{i:04d}", **pt, **py, auth_request_id=f"AR-{i:05d}",
            decision=rng.choices(["approved", "denied", "pended", "partially_approved"],
                                 [3, 3, 2, 1])[0],
            service_description=svc[0], cpt_codes=[svc[1]],
            appeal_deadline=today + timedelta(days=rng.randint(3, 60))))
        drug = rng.choice(DRUGS)
        out.append(RxRenewalRequested(
            source_id=f"RX-{today:%Y%m}-{i:04d}", **pt, drug_name=drug[0],
            controlled_substance_schedule=drug[1],
            pharmacy_name=rng.choice(["CVS #4821", "Walgreens #1190", "H-E-B Pharmacy"]),
            days_supply_left=rng.randint(0, 10)))
        out.append(CosignRequested(
            source_id=f"CS-{today:%Y%m}-{i:04d}", **pt,
            document_type=rng.choice(["progress_note", "order", "telephone_order",
                                      "procedure_note"]),
            author_id=f"np-{rng.randint(1, 4)}", supervising_physician_id=physician_id,
            encounter_date=today - timedelta(days=rng.randint(0, 6))))
        spec = rng.choice(SPECIALTIES)
        out.append(ReferralAuthRequested(
            source_id=f"RF-{today:%Y%m}-{i:04d}", **pt, **py, referral_id=f"REF-{i:05d}",
            specialty=spec[0], referred_to=spec[1],
            urgency=rng.choices(["routine", "urgent", "stat"], [6, 3, 1])[0],
            needed_by=today + timedelta(days=rng.randint(5, 45))))
        submitted = today - timedelta(days=rng.randint(30, 150))
        out.append(PayerFollowUpDue(
            source_id=f"FU-{today:%Y%m}-{i:04d}", **pt, **py,
            claim_id=f"CLM-{submitted:%Y}-{rng.randint(100000, 999999)}",
            amount=Decimal(rng.uniform(150, 15000)).quantize(Decimal("0.01")),
            submitted_on=submitted, follow_up_on=today + timedelta(days=rng.randint(0, 7)),
            attempt=rng.randint(1, 3), timely_filing_deadline=submitted + timedelta(days=180)))
        out.append(ClaimStatusChanged(
            source_id=f"CL-{today:%Y%m}-{i:04d}", **pt, **py,
            claim_id=f"CLM-{today:%Y}-{rng.randint(100000, 999999)}",
            status=rng.choice(["denied", "pending", "rejected", "pending"]),
            status_code=rng.choice(["A7:21", "F2:85", "P1:20"]),
            amount=Decimal(rng.uniform(100, 9000)).quantize(Decimal("0.01")),
            days_in_status=rng.randint(0, 60)))
        out.append(TaskRequested(
            source_id=f"TR-{today:%Y%m}-{i:04d}", patient_id=pt["patient_id"],
            patient_name=pt["patient_name"], task_type="Care Coordination",
            title=rng.choice(CCM_TASKS), source_module="Billing"))
    return out


async def load(org: str, denials: int, seed: int, each: int = 40,
               physician_id: str = "dr-1", today: date | None = None) -> int:
    """Publish the org's source events, dated from ``today`` (UTC, as intake dates them)."""
    fake, rng = Faker("en_US"), random.Random(seed)
    Faker.seed(seed)
    settings = CommonSettings()
    await kafka.ensure_topics(settings)
    producer = kafka.producer(settings, "demo-loader")
    await producer.start()
    try:
        today = today or datetime.now(UTC).date()
        sources = [denial(fake, rng, today, n) for n in range(denials)]
        sources += others(fake, rng, today, each, physician_id)
        for p in sources:
            env = events.envelope(p, org_id=org, producer=f"demo-{p.source_module.lower()}")
            await producer.send(topics.EVENT_TOPICS[type(p).__name__].name, events.encode(env),
                                key=p.source_id.encode(), headers=env.headers)
        await producer.flush()
    finally:
        await producer.stop()
    return len(sources)


async def work_a_day(gateway_url: str, people: dict, seed: int) -> dict:
    """Work part of the queue as the staff would, through the gateway's API, so the demo
    shows a day in progress: some tasks started, some in review, some done, with notes
    and time. Returns how many of each."""
    import httpx

    rng = random.Random(seed)
    done: dict[str, int] = {"in progress": 0, "in review": 0, "completed": 0}
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as c:
        tokens = {}
        for u in people["users"]:
            r = await c.post("/api/v1/auth/token", json={"email": u["email"], "password": DEMO_PASSWORD})
            r.raise_for_status()
            tokens[r.json()["user"]["id"]] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        manager = next(iter(tokens.values()))
        seen, steady = -1, 0
        for _ in range(240):  # until the stream has landed: the count holds for 2 s
            counts = (await c.get("/api/v1/queue/counts", headers=manager)).json()["columns"]
            total = sum(counts.values())
            steady = steady + 1 if total == seen and total > 0 else 0
            if steady >= 4:
                break
            seen = total
            await asyncio.sleep(0.5)
        items = []
        cursor = None
        while True:
            params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            r = (await c.get("/api/v1/queue", headers=manager, params=params)).json()
            items += [t for t in r["items"] if t["owner_id"] in tokens]
            if not (cursor := r["next_cursor"]):
                break
        rng.shuffle(items)
        plans = [(t, rng.random(), rng) for t in items[: len(items) // 4]]
        gate = asyncio.Semaphore(8)

        async def work(t: dict, fate: float, rng: random.Random) -> None:
            me = tokens[t["owner_id"]]
            url = f"/api/v1/tasks/{t['id']}"
            async with gate:
                tag = (await c.get(url, headers=me)).headers["ETag"]
                r = await c.post(f"{url}/status", headers={**me, "If-Match": tag},
                                 json={"status": "in-progress", "reason": "working it"})
                tag = r.headers["ETag"]
                await c.post(f"{url}/time", headers=me, json={
                    "minutes": rng.choice([5, 10, 15, 20, 30]), "action": rng.choice(
                        ["Payer call", "Chart review", "Appeal letter", "Records request"])})
                if fate < 0.35:
                    await c.post(f"{url}/notes", headers=me, json={"text": rng.choice([
                        "Called the payer; reference number noted, callback in 3 days.",
                        "Requested the operative report from medical records.",
                        "Corrected modifier; resubmission pending review."])})
                    done["in progress"] += 1
                elif fate < 0.55:
                    await c.post(f"{url}/status", headers={**me, "If-Match": tag},
                                 json={"status": "in-progress", "business_status": "in review",
                                       "reason": "ready for a second look"})
                    done["in review"] += 1
                else:
                    await c.post(f"{url}/status", headers={**me, "If-Match": tag}, json={
                        "status": "completed", "business_status": rng.choice(
                            ["paid", "overturned", "approved", "resubmitted"]), "reason": "resolved"})
                    done["completed"] += 1

        await asyncio.gather(*(work(*p) for p in plans))
        done.update(await contact_payers(c, tokens, items[len(items) // 4:], seed))
    return done


OUTCOMES = [  # what billers wrote down after their calls
    {"reference_number": "AET-88231", "claim_status": "in review after resubmission",
     "next_step": "resubmit with modifier 25", "follow_up_days": 7},
    {"reference_number": "UHC-40917", "claim_status": "approved for payment",
     "promised_payment_days": 10},
]


async def contact_payers(c, tokens: dict, items: list[dict], seed: int) -> dict:
    """Calls, texts and e-mails to payers from denial tasks, as billers make them: the
    payer simulator plays the calls through and answers the texts and e-mails; most calls
    get their outcome written down, one is left with its prompt open."""
    rng = random.Random(seed)
    denials = [t for t in items if t["task_type"] == "Denial" and t["payer_id"]]
    rng.shuffle(denials)
    calls, texts, mails = denials[:3], denials[3:5], denials[5:6]
    placed = []
    for t in calls:
        r = await c.post(f"/api/v1/tasks/{t['id']}/calls", headers=tokens[t["owner_id"]], json={})
        r.raise_for_status()
        placed.append((t, r.json()["id"]))
    for channel, group in (("sms", texts), ("email", mails)):
        for t in group:
            me = tokens[t["owner_id"]]
            tpl = next(x for x in (await c.get(f"/api/v1/tasks/{t['id']}/message-templates",
                                               headers=me)).json() if x["channel"] == channel)
            r = await c.post(f"/api/v1/tasks/{t['id']}/messages", headers=me, json={
                "channel": channel, "body": tpl["body"],
                **({"subject": tpl["subject"]} if tpl["subject"] else {})})
            r.raise_for_status()
    today = datetime.now(UTC).date()

    async def outcome(t: dict, iid: str, o: dict | None) -> bool:
        me = tokens[t["owner_id"]]
        for _ in range(120):  # the simulated call lasts about 15 s
            it = (await c.get(f"/api/v1/interactions/{iid}", headers=me)).json()
            if it["status"] in ("completed", "failed", "busy", "no-answer", "refused"):
                break
            await asyncio.sleep(0.5)
        if it["status"] != "completed" or o is None:
            return False
        body = {k: v for k, v in o.items() if not k.endswith("_days")}
        if "follow_up_days" in o:
            body["follow_up_date"] = (today + timedelta(days=o["follow_up_days"])).isoformat()
        if "promised_payment_days" in o:
            body["promised_payment_date"] = (today + timedelta(days=o["promised_payment_days"])).isoformat()
        (await c.post(f"/api/v1/interactions/{iid}/outcome", headers=me, json=body)).raise_for_status()
        return True

    done = await asyncio.gather(*(outcome(t, iid, OUTCOMES[i] if i < len(OUTCOMES) else None)
                                  for i, (t, iid) in enumerate(placed)))
    return {"calls": len(placed), "outcomes": sum(done), "texts": len(texts), "e-mails": len(mails)}


def unmatched_text(payer_comms_url: str, sender: str = "+18005550104") -> int:
    """An SMS from a payer about nothing we asked (it lands in triage), signed as Twilio
    signs its webhooks."""
    import httpx
    from twilio.request_validator import RequestValidator

    url = f"{payer_comms_url}/twilio/sms/inbound"
    params = {"MessageSid": "SMdemo0000000000000000000000000001", "From": sender,
              "To": "+15005550006", "AccountSid": "AC" + "0" * 32, "NumMedia": "0",
              "Body": "Cigna provider services: a claim for member ID W2871 needs the NPI of "
                      "the referring provider. Please call us back."}
    sig = RequestValidator("dev-only-token").compute_signature(url, params)
    return httpx.post(url, data=params, headers={"X-Twilio-Signature": sig}, timeout=10).status_code


def onboard(org: str, seed: int):
    """Seed the org and its staff into the gateway of the stack this environment names
    (KAFKA_BOOTSTRAP_SERVERS, DATABASE_PREFIX: where `make run` started the services);
    returns that stack and the staff."""
    from common.localstack import Stack

    fake = Faker("en_US")
    Faker.seed(seed)
    people = staff(org, fake)
    stack = Stack.from_env()
    stack.seed_users(people)
    return stack, people


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--org", default="demo-clinic")
    ap.add_argument("--denials", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--intake-url", default="http://127.0.0.1:8001")
    ap.add_argument("--payer-comms-url", default="http://127.0.0.1:8005",
                    help="where the demo's unmatched payer text goes ('' to skip)")
    ap.add_argument("--gateway-url", default="http://127.0.0.1:8000",
                    help="work part of the queue through this gateway ('' to skip)")
    args = ap.parse_args()
    stack, people = onboard(args.org, args.seed)
    stack.register_org(args.org, intake_url=args.intake_url)
    stack.seed_payers()
    from services.gateway.directory.seed import seed_user_id

    physician = next(u for u in people["users"] if u["roles"] == ["physician"])
    n = asyncio.run(load(args.org, args.denials, args.seed,
                         physician_id=seed_user_id(args.org, physician["email"])))
    print(f"demo org {args.org}: {len(people['users'])} staff, published {n} source events "
          f"({args.denials} denials, 40 of every other kind)")
    if args.gateway_url:
        worked = asyncio.run(work_a_day(args.gateway_url, people, args.seed))
        print("  staff worked part of the queue: " + ", ".join(f"{v} {k}" for k, v in worked.items()))
        if args.payer_comms_url:
            unmatched_text(args.payer_comms_url)
            print("  a payer's text that matched no task waits in Triage")
    print(f"  sign in as {people['users'][0]['email']} (practice manager) or "
          f"{people['users'][3]['email']} (biller), password {DEMO_PASSWORD}")


if __name__ == "__main__":
    main()
