"""Bootstrap an org's staff from a file (its first admin cannot be created by API):

    python -m services.gateway seed-users staff.json

    {"orgs": [{"id": "demo-clinic", "name": "Demo Clinic"}],
     "users": [{"org_id": "demo-clinic", "email": "pm@demo.test", "name": "Pat Manager",
                "password": "…", "roles": ["practice_manager"], "skills": [],
                "phone": "+15550100"}]}

Idempotent: users are matched by org and e-mail and updated.
"""
from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

from common import db
from common.events.generated import OrgRegistered
from common.runtime import Context
from services.gateway import auth, domain
from services.gateway import store as gateway_store
from services.gateway.directory import store
from services.gateway.directory.service import announce_user

USER_NAMESPACE = uuid.UUID("2b7e6a51-93c4-4f0e-8d8e-6c1f2f7d9a10")


def seed_user_id(org_id: str, email: str) -> str:
    """The id a seeded user gets when the seed file names none (stable across runs; the
    same address in two orgs is two people)."""
    return str(uuid.uuid5(USER_NAMESPACE, f"{org_id}/{email.lower()}"))


def configure(p) -> None:
    p.add_argument("file", type=Path, help="JSON with orgs and users")


def run(settings, args) -> int:
    data = json.loads(args.file.read_text())
    for u in data.get("users", []):
        bad = [r for r in u["roles"] if r not in domain.ROLES]
        if bad:
            raise SystemExit(f"{u['email']}: unknown role {bad[0]}; one of {', '.join(domain.ROLES)}")
    asyncio.run(seed(settings, data))
    print(f"seeded {len(data.get('orgs', []))} orgs, {len(data.get('users', []))} users")
    return 0


def _context(settings) -> Context:
    """A connection to the gateway's database for one command (the outbox is the gateway's)."""
    engine = db.create_engine(settings.database_url, pool_size=settings.db_pool_size)
    return Context(settings, engine, db.sessionmaker(engine), gateway_store.outbox,
                   gateway_store.processed_event)


async def seed(settings, data: dict) -> None:
    """Create or update the file's orgs and people, announced (OrgRegistered, UserUpserted)."""
    ctx = _context(settings)
    try:
        async with ctx.unit_of_work() as uow:
            s = uow.session
            for o in data.get("orgs", []):
                await store.ensure_org(s, o["id"], o["name"])
                # announce it (again, harmlessly) so intake accepts the org's events
                await uow.emit(OrgRegistered(org_id=o["id"], name=o["name"]), org_id=o["id"],
                               key=o["id"])
            for u in data.get("users", []):
                email = u["email"].lower()
                uid = await store.upsert_user(
                    s, id=u.get("id") or seed_user_id(u["org_id"], email), org_id=u["org_id"],
                    email=email, name=u["name"],
                    password_hash=auth.hash_password(u["password"]), roles=list(u["roles"]),
                    skills=list(u.get("skills", [])), active=True,
                    capacity=u.get("capacity", 40), away=u.get("away", False),
                    **({"phone": u["phone"]} if "phone" in u else {}))
                await announce_user(uow, await store.user_by_id(s, u["org_id"], uid))
    finally:
        await ctx.engine.dispose()
