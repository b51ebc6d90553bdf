"""Onboarding an org as the README says: its example file, through seed-users' code."""
import json
import re
from pathlib import Path

import sqlalchemy as sa

from common import events
from services.gateway import domain, store
from services.gateway.directory import seed as directory

README = Path(__file__).resolve().parents[3] / "README.md"


def onboarding_section() -> str:
    text = README.read_text()
    return text[text.index("### Onboarding an org"):text.index("## Architecture")]


async def test_the_readmes_example_onboards_an_org_whose_staff_sign_in(gw):
    section = onboarding_section()
    data = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))
    await directory.seed(gw.ctx.settings, data)
    await directory.seed(gw.ctx.settings, data)  # idempotent
    r = await gw.client.post("/api/v1/auth/token",
                             json={"email": "pat@riverside.test", "password": "a long passphrase"})
    assert r.status_code == 200, r.text
    gw.client.cookies.clear()
    me = {"Authorization": f"Bearer {r.json()['access_token']}"}
    users = (await gw.client.get("/api/v1/users", headers=me)).json()
    assert sorted((u["email"], u["roles"], u["capacity"]) for u in users) == [
        ("pat@riverside.test", ["practice_manager"], 40), ("sam@riverside.test", ["biller"], 40)]
    async with gw.ctx.sessions() as s:
        values = (await s.execute(sa.select(store.outbox.c.value))).scalars().all()
    announced = [e for e in map(events.decode, values) if e.org_id == "riverside-clinic"]
    assert sorted({e.event_type for e in announced}) == ["OrgRegistered", "UserUpserted"]
    # the README lists the roles there are
    listed = re.search(r"roles are (.*?); `skills`", section, re.S).group(1)
    assert re.findall(r"`([a-z_]+)`", listed) == list(domain.ROLES)
