"""The payer directory command: ``python -m services.payer_comms seed-payers [FILE]`` loads
the built-in directory (``payers.json``) or a deployment's own, idempotently."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from common import db, limits
from services.payer_comms import domain
from services.payer_comms.interactions import store

BUILT_IN = Path(__file__).with_name("payers.json")


class PayerEntry(BaseModel):
    """One payer's contact details (the directory's row; also what managers edit)."""
    model_config = ConfigDict(extra="forbid")
    payer_id: limits.text(64, min_length=1)
    name: limits.text(200, min_length=1)
    phone: limits.text(32) | None = Field(None, description="provider services, E.164")
    fax: limits.text(32) | None = None
    email: limits.text(254) | None = None
    portal_url: limits.text(500) | None = Field(None, pattern=r"^https://")
    hours: limits.text(100) | None = None
    time_zone: limits.text(64) = "America/New_York"
    ivr_notes: limits.text(2000) | None = None

    @field_validator("phone", "fax")
    @classmethod
    def _e164(cls, v: str | None) -> str | None:
        if v is None:
            return None
        n = domain.e164(v)
        if n is None:
            raise ValueError("must be a phone number (E.164, e.g. +18005550101)")
        return n

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v[:64]!r}") from None
        return v


def read(path: Path) -> list[PayerEntry]:
    data = json.loads(path.read_text())
    return [PayerEntry.model_validate(p) for p in data["payers"]]


def configure(p) -> None:
    p.add_argument("file", type=Path, nargs="?", default=BUILT_IN,
                   help="JSON {\"payers\": [...]} (default: the built-in directory)")


def run(settings, args) -> int:
    entries = read(args.file)
    asyncio.run(seed(settings, entries))
    print(f"payer directory: {len(entries)} payers")
    return 0


async def seed(settings, entries: list[PayerEntry], org_id: str = store.EVERY_ORG) -> None:
    engine = db.create_engine(settings.database_url, pool_size=1)
    try:
        async with db.sessionmaker(engine)() as s, s.begin():
            await store.upsert_payers(s, [{"org_id": org_id, **e.model_dump(),
                                           "updated_by": "seed-payers"} for e in entries])
    finally:
        await engine.dispose()
