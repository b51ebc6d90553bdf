"""The payer-contact panel and the triage page, without a browser: a call asked for shows
at once and the panel polls while it is under way; an ended call brings the outcome prompt,
whose answer becomes a note and a follow-up; a bad form says why; triage attaches by a
WQ- reference and refuses another org's task."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from html import unescape

import httpx
import pytest

from services.gateway.tests.conftest import PASSWORD, created
from services.gateway.tests.test_interactions import logged

ORG = "webcontact"
AT = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def web(gw):
    await gw.user(ORG, "biller")
    await gw.deliver(created(ORG, 1), ORG)
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=gw.app), base_url="http://gw")
    r = await c.post("/login", data={"email": f"biller@{ORG}.test", "password": PASSWORD})
    assert r.status_code == 303
    page = (await c.get("/queue")).text
    c.headers["X-CSRF-Token"] = re.search(r'X-CSRF-Token": "([0-9a-f]+)"', page).group(1)
    c.headers["HX-Request"] = "true"
    yield c
    await c.aclose()


def said(html: str) -> str:
    m = re.search(r'data-testid="contact-flash">([^<]*)<', html) or re.search(
        r'data-testid="flash">([^<]*)<', html)
    return unescape(m.group(1)) if m else ""


async def test_a_call_from_the_page_then_its_outcome(web, gw):
    t = created(ORG, 1)
    page = (await web.get(f"/tasks/{t.task_id}", headers={"HX-Request": ""})).text
    assert 'data-testid="call-payer"' in page and "Claim status (SMS)" not in page  # templates prefill the boxes
    assert "C-1" in page  # the claim in the prefilled message
    r = await web.post(f"/tasks/{t.task_id}/call", data={})
    assert r.status_code == 200 and said(r.text).startswith("Calling")
    assert 'hx-trigger="every 2s"' in r.text and "Asked for" in r.text
    iid = re.search(r'/interactions/([0-9a-f-]{36})/', r.text)
    assert iid is None  # no prompt before the call ended
    async with gw.ctx.sessions() as s:
        from services.gateway.interactions import store
        [row] = await store.of_task(s, ORG, t.task_id)
    await logged(gw, ORG, interaction_id=row.id, task_id=t.task_id, revision=5,
                 status="completed", duration_s=125)
    r = await web.get(f"/tasks/{t.task_id}/interactions")
    assert 'data-testid="outcome-prompt"' in r.text and "after 2 min 5 s" in r.text
    assert 'hx-trigger="every 2s"' not in r.text  # nothing under way: no more polling
    bad = await web.post(f"/interactions/{row.id}/outcome", data={"follow_up_date": "someday"})
    assert bad.status_code == 422 and "follow_up_date" in said(bad.text)
    r = await web.post(f"/interactions/{row.id}/outcome", data={
        "reference_number": "REF-42", "next_step": "resubmit with modifier 25",
        "follow_up_date": "2027-01-20"})
    assert r.status_code == 200, r.text
    assert said(r.text) == "Outcome saved as a note, follow-up sub-task created."
    assert 'data-testid="outcome-prompt"' not in r.text and "REF-42" in r.text
    page = (await web.get(f"/tasks/{t.task_id}", headers={"HX-Request": ""})).text
    assert "Call with Aetna, reference REF-42." in unescape(page)
    assert "Follow up with Aetna: resubmit with modifier 25" in unescape(page)


async def test_a_message_that_does_not_fit_says_why(web):
    t = created(ORG, 1)
    r = await web.post(f"/tasks/{t.task_id}/message", data={"channel": "sms", "body": "x" * 1601})
    assert r.status_code == 422 and "1,600" in said(r.text)
    r = await web.post(f"/tasks/{t.task_id}/message", data={"channel": "email", "subject": "Claim C-1",
                                                            "body": "Hello"})
    assert r.status_code == 200 and said(r.text) == "E-mail on its way."


async def test_triage_attaches_by_reference_and_only_in_the_org(web, gw):
    t = created(ORG, 1)
    iid = uuid.uuid4()
    await logged(gw, ORG, interaction_id=iid, channel="email", direction="inbound",
                 status="received", payer_id=None, summary="E-mail from a payer")
    page = (await web.get("/triage", headers={"HX-Request": ""})).text
    assert page.count('data-testid="triage-item"') == 1 and "E-mail from a payer" in page
    r = await web.post(f"/interactions/{iid}/attach", data={"task": "no idea"})
    assert r.status_code == 422 and "WQ- reference" in said(r.text)
    other = created("webcontact-other", 9)
    await gw.deliver(other, "webcontact-other")
    r = await web.post(f"/interactions/{iid}/attach", data={"task": f"/tasks/{other.task_id}"})
    assert r.status_code == 404 and said(r.text) == "Not done: no such task in your org."
    ref = "WQ-" + str(t.task_id).replace("-", "")[:8]
    r = await web.post(f"/interactions/{iid}/attach", data={"task": f"please file under {ref}"})
    assert r.status_code == 200 and said(r.text) == "Attached: it is on the task now."
    assert 'data-testid="triage-item"' not in r.text
    panel = (await web.get(f"/tasks/{t.task_id}/interactions")).text
    assert "E-mail from the payer" in panel
