"""The gateway app on a real database, with signed-in users of two orgs."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from common import events
from common.consumer import handle_now
from common.events.generated import TaskCreated
from common.runtime import create_api
from services.gateway.app import SERVICE
from services.gateway.directory import seed as directory
from services.gateway.tasks import handlers

PASSWORD = "correct horse battery"
T0 = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)


def created(org: str, i: int, **kw) -> TaskCreated:
    base = dict(task_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{org}/{i}"), task_type="Denial",
                priority="High", title=f"Denial #{i}", due_at=T0 + timedelta(hours=i),
                source_kind="DenialPosted", source_id=f"D-{i}", source_module="RCM",
                patient_id=f"PT-{i % 3}", patient_name="DOE, Jane", payer_id="aetna",
                payer_name="Aetna", payer_class="commercial", reason_codes=["CO-197"],
                details={"claim_id": f"C-{i}"})
    return TaskCreated(**{**base, **kw})


class Gateway:
    def __init__(self, app, client: httpx.AsyncClient) -> None:
        self.app, self.client, self.ctx = app, client, app.state.ctx
        self.tokens: dict[str, dict] = {}

    async def deliver(self, payload, org: str):
        env = events.envelope(payload, org_id=org, producer="intake")
        return await handle_now(service="gateway", sessions=self.ctx.sessions,
                                outbox=self.ctx.outbox, processed=self.ctx.processed, env=env,
                                handler=handlers.HANDLERS[type(payload)], via="test")

    async def user(self, org: str, role: str, skills=()) -> dict:
        """Headers of a signed-in user with one role in an org (created once)."""
        key = f"{org}/{role}"
        if key not in self.tokens:
            email = f"{role}@{org}.test"
            await directory.seed(self.ctx.settings, {
                "orgs": [{"id": org, "name": org.title()}],
                "users": [{"org_id": org, "email": email, "name": f"{role.title()} of {org}",
                           "password": PASSWORD, "roles": [role], "skills": list(skills)}]})
            r = await self.client.post("/api/v1/auth/token",
                                       json={"email": email, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self.client.cookies.clear()  # tests say who they are with a bearer token
            body = r.json()
            self.tokens[key] = {"Authorization": f"Bearer {body['access_token']}",
                                "_id": body["user"]["id"]}
        return self.tokens[key]


@pytest.fixture(scope="module")
async def gw(migrate):
    app = create_api(SERVICE, migrate(SERVICE))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://gw") as c:
        yield Gateway(app, c)


def h(headers: dict) -> dict:
    """Request headers without the test's bookkeeping."""
    return {k: v for k, v in headers.items() if not k.startswith("_")}
