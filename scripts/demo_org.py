"""Load a realistic demo org: its staff (roles and skills) into the gateway, and upstream
source events published to Kafka, as the RCM would.

    python scripts/demo_org.py [--org demo-clinic] [--denials 300]
"""
from __future__ import annotations

import argparse
import asyncio
import random
from datetime import date, timedelta
from decimal import Decimal

from faker import Faker

from common import events, kafka, topics
from common.events.generated import DenialPosted
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


STAFF = [  # (role, skills) — a small practice's revenue-cycle and care team
    ("practice_manager", []), ("org_admin", []),
    ("senior_biller", ["Denial", "SeniorBiller", "commercial", "appeals"]),
    ("biller", ["Denial", "medicare", "medicaid"]),
    ("biller", ["Denial", "workers_comp", "WorkersComp"]),
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
                      "password": DEMO_PASSWORD, "roles": [role], "skills": skills})
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


async def load(org: str, denials: int, seed: int) -> int:
    fake, rng = Faker("en_US"), random.Random(seed)
    Faker.seed(seed)
    settings = CommonSettings()
    await kafka.ensure_topics(settings)
    producer = kafka.producer(settings, "demo-loader")
    await producer.start()
    try:
        today = date.today()
        for n in range(denials):
            p = denial(fake, rng, today, n)
            env = events.envelope(p, org_id=org, producer="demo-rcm")
            await producer.send(topics.UPSTREAM_DENIALS.name, events.encode(env),
                                key=p.source_id.encode(), headers=env.headers)
        await producer.flush()
    finally:
        await producer.stop()
    return denials


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--org", default="demo-clinic")
    ap.add_argument("--denials", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--intake-url", default="http://127.0.0.1:8001")
    args = ap.parse_args()
    from common.localstack import Stack

    fake = Faker("en_US")
    Faker.seed(args.seed)
    people = staff(args.org, fake)
    stack = Stack(CommonSettings().kafka_bootstrap_servers)
    stack.seed_users(people)
    stack.register_org(args.org, intake_url=args.intake_url)
    n = asyncio.run(load(args.org, args.denials, args.seed))
    print(f"demo org {args.org}: {len(people['users'])} staff, published {n} denials")
    print(f"  sign in as {people['users'][0]['email']} (practice manager) or "
          f"{people['users'][3]['email']} (biller), password {DEMO_PASSWORD}")


if __name__ == "__main__":
    main()
