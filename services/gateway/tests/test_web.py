"""The web app's pages on the real gateway app and database, without a browser: sign-in
and where it leads, the CSRF check, refusals as pages that say why, and each task action
answering with the task and a message."""
from __future__ import annotations

import re
from html import unescape

import httpx
import pytest

from services.gateway.tests.conftest import PASSWORD, created

ORG = "webpages"


@pytest.fixture(scope="module")
async def web(gw):
    """A browser-like client (cookies, no bearer token) signed in as a biller."""
    await gw.user(ORG, "biller")
    await gw.user(ORG, "practice_manager")
    for i in range(3):
        await gw.deliver(created(ORG, i), ORG)
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=gw.app), base_url="http://gw")
    r = await c.post("/login", data={"email": f"biller@{ORG}.test", "password": PASSWORD,
                                     "next": "/board"})
    assert r.status_code == 303 and r.headers["location"] == "/board"
    page = (await c.get("/queue")).text
    c.headers["X-CSRF-Token"] = re.search(r'X-CSRF-Token": "([0-9a-f]+)"', page).group(1)
    yield c
    await c.aclose()


def flash(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'data-testid="flash">([^<]*)<', html)]


async def test_pages_need_sign_in_and_a_wrong_password_says_so(web, gw):
    c = gw.client
    r = await c.get("/tasks/00000000-0000-0000-0000-000000000000?x=1")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Ftasks%2F00000000-0000-0000-0000-000000000000%3Fx%3D1"
    r = await c.get("/queue", headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/login")
    r = await c.post("/login", data={"email": "nobody@x.test", "password": "nope"})
    assert r.status_code == 401 and "do not match an account" in r.text
    r = await c.post("/login", data={"email": f"biller@{ORG}.test", "password": PASSWORD,
                                     "next": "//evil.example/steal"})
    assert r.status_code == 303 and r.headers["location"] == "/queue"  # never off-site
    c.cookies.clear()


async def test_every_page_renders_for_its_people(web, gw):
    for path in ("/queue", "/queue?view=Denial%20Queue", "/board", f"/tasks/{created(ORG, 1).task_id}"):
        r = await web.get(path)
        assert r.status_code == 200, (path, r.text[-500:])
        assert "<title>" in r.text and "Biller of webpages" in r.text
    r = await web.get("/admin/users")
    assert r.status_code == 403 and "Only a practice manager or org admin" in r.text
    r = await web.get("/queue?sla=someday")
    assert r.status_code == 422 and "sla: Input should be" in r.text


async def test_forms_without_the_csrf_token_are_refused(web):
    token = web.headers.pop("X-CSRF-Token")
    try:
        r = await web.post(f"/tasks/{created(ORG, 1).task_id}/notes", data={"text": "hi"})
        assert r.status_code == 403 and "expired or came from another site" in r.text
        r = await web.post(f"/tasks/{created(ORG, 1).task_id}/notes", data={"text": "hi", "csrf": "0" * 40})
        assert r.status_code == 403
    finally:
        web.headers["X-CSRF-Token"] = token


async def test_task_actions_answer_with_the_task_and_what_happened(web):
    url = f"/tasks/{created(ORG, 2).task_id}"
    hx = {"HX-Request": "true"}
    r = await web.post(f"{url}/time", data={"minutes": "0", "action": "call"}, headers=hx)
    assert r.status_code == 422
    assert flash(r.text) == ["Not done: minutes: Input should be greater than or equal to 1"]
    r = await web.post(f"{url}/notes", data={"text": "  "}, headers=hx)
    assert r.status_code == 422 and "text: String should have at least 1 character" in flash(r.text)[0]
    r = await web.post(f"{url}/notes", data={"text": "Called Aetna"}, headers=hx)
    assert r.status_code == 200 and flash(r.text) == ["Note added."] and "Called Aetna" in r.text
    r = await web.post(f"{url}/status", data={"status": "completed", "version": "1"}, headers=hx)
    assert r.status_code == 409 and "cannot become 'completed'" in flash(r.text)[0]
    r = await web.post(f"{url}/status", data={"status": "in-progress", "version": "99"}, headers=hx)
    assert r.status_code == 412 and "someone changed this task" in flash(r.text)[0]
    version = re.search(r'data-version="(\d+)"', r.text).group(1)
    r = await web.post(f"{url}/status", data={"status": "in-progress", "version": version}, headers=hx)
    assert r.status_code == 200 and flash(r.text) == ["Status is now in progress."]
    r = await web.post(f"{url}/subtasks", data={"title": "Records", "due_on": "not a date"}, headers=hx)
    assert r.status_code == 422 and flash(r.text) == ["Not done: due: 'not a date' is not a date (YYYY-MM-DD)"]


async def test_board_moves_follow_the_state_machine(web):
    task = str(created(ORG, 0).task_id)
    r = await web.post("/board/move", json={"task_id": task, "version": 1, "column": "Done"})
    assert r.status_code == 409
    assert r.json()["message"].startswith("'Denial #0' cannot move to Done: a task that is "
                                          "'requested' cannot become 'completed'")
    r = await web.post("/board/move", json={"task_id": task, "version": 1, "column": "Review"})
    assert r.status_code == 200 and r.json()["counts"]["Review"] == 1
    r = await web.post("/board/move", json={"task_id": task, "version": 1, "column": "Done"})
    assert r.status_code == 412  # the version the card had is gone
    r = await web.post("/board/move", json={"task_id": task, "version": 2, "column": "Done"})
    assert r.status_code == 200 and r.json()["counts"]["Done"] == 1
    r = await web.post("/board/move", json={"task_id": task, "version": 3, "column": "Nowhere"})
    assert r.status_code == 422


async def test_a_saved_view_fills_the_filters_and_an_emptied_filter_overrides_it(web):
    r = await web.post("/views", data={"name": "Low only", "priority": "Low"})
    assert r.status_code == 303
    view = r.headers["location"].split("view=")[1]
    r = await web.get(f"/queue?view={view}")
    assert "No open task matches" in r.text and "<option selected>Low</option>" in r.text
    r = await web.get(f"/queue?view={view}&priority=")  # "Any" chosen on top of the view
    assert "Denial #1" in r.text and "<option selected>Low</option>" not in r.text
    r = await web.post("/views", data={"name": "Low only", "priority": "Low"},
                       headers={"HX-Request": "true"})
    assert r.status_code == 409 and "already have a view named" in r.text


async def test_sla_admin_saves_policies_and_windows_and_explains_refusals(web, gw):
    m = httpx.AsyncClient(transport=httpx.ASGITransport(app=gw.app), base_url="http://gw")
    r = await m.post("/login", data={"email": f"practice_manager@{ORG}.test", "password": PASSWORD})
    assert r.status_code == 303
    page = (await m.get("/admin/sla")).text
    assert "(the defaults)" in page and "No policies yet" in page
    m.headers["X-CSRF-Token"] = re.search(r'X-CSRF-Token": "([0-9a-f]+)"', page).group(1)
    form = {"version": "0", "id": "denials", "task_type": "Denial", "deadline": "16",
            "deadline_unit": "hours", "timezone": "America/New_York", "start": "17:00", "end": "09:00",
            "exclude_weekends": "on", "holidays": "2026-11-26", "pause_on_hold": "on",
            "due_soon_hours": "8", "level2_after_hours": "24"}
    r = await m.post("/admin/sla/policies/new", data=form)
    assert r.status_code == 422
    assert flash(r.text) == ["Not saved: policies[0] ('denials').calendar: business hours: end must "
                             "be after start (same day)"]
    assert 'value="2026-11-26"' in r.text  # what was typed comes back
    r = await m.post("/admin/sla/policies/new", data=form | {"holidays": "Thanksgiving"})
    assert flash(r.text) == ["Not saved: Holidays: 'Thanksgiving' is not a date (use 2026-12-25)"]
    r = await m.post("/admin/sla/policies/new", data=form | {"end": "18:00"})
    assert r.status_code == 200, r.text[-800:]
    assert flash(r.text) == ["Policy 'denials' saved: version 1 applies from now on."]
    assert ("16 h of business hours (17:00–18:00 America/New_York, weekdays, 1 holidays)"
            in unescape(r.text))
    got = (await m.get("/api/v1/sla/policies")).json()
    assert got["version"] == 1 and got["policies"][0]["calendar"]["start"] == "17:00:00"
    r = await m.post("/admin/sla/policies/denials", data=form | {"end": "18:00"})
    assert r.status_code == 422 and "changed since you opened them (now version 1)" in flash(r.text)[0]
    r = await m.post("/admin/sla/windows", data={"version": "1", "id": "upgrade",
                                                 "starts_at": "2026-12-01T04:00", "ends_at": "2026-12-01T02:00"})
    assert r.status_code == 422 and "ends_at must be after starts_at" in flash(r.text)[0]
    r = await m.post("/admin/sla/windows", data={"version": "1", "id": "upgrade",
                                                 "starts_at": "2026-12-01T02:00", "ends_at": "2026-12-01T04:00"})
    assert r.status_code == 200 and "Maintenance window 'upgrade' added" in flash(r.text)[0]
    got = (await m.get("/api/v1/sla/policies")).json()
    assert got["version"] == 2 and got["maintenance_windows"][0]["starts_at"] == "2026-12-01T02:00:00Z"
    r = await m.post("/admin/sla/policies/denials", data={"version": "2", "delete": "1"})
    assert r.status_code == 200 and flash(r.text) == ["Policy 'denials' deleted: version 3 applies from now on."]
    assert (await web.get("/admin/sla")).status_code == 403  # billers may not
    await m.aclose()


async def test_task_page_shows_the_sla_clock_paused_and_the_escalation(web, gw):
    from datetime import UTC, datetime, timedelta

    from common import events
    from common.consumer import handle_now
    from common.events.generated import SlaDeadlineChanged
    from services.gateway.tasks import escalations
    from services.gateway.tests.test_sla import escalate

    t = created(ORG, 7)
    await gw.deliver(t, ORG)
    now = datetime.now(UTC).replace(microsecond=0)
    env = events.envelope(SlaDeadlineChanged(
        task_id=t.task_id, due_at=now + timedelta(days=2, hours=3), paused_at=now, reason="paused",
        policy_id="denials", policy_version=1), org_id=ORG, producer="sla_monitor")
    await handle_now(service="gateway", sessions=gw.ctx.sessions, outbox=gw.ctx.outbox,
                     processed=gw.ctx.processed, env=env, handler=escalations.sla_deadline_changed,
                     via="test")
    page = unescape((await web.get(f"/tasks/{t.task_id}")).text)
    assert re.search(r'class="sla paused"[^>]*><svg[^<]*<rect[^>]*/><rect[^>]*/></svg> 2d 3h left', page)
    assert "Clock stopped since" in page
    assert "SLA clock stopped (on hold)" in page  # in the history
    pm = await gw.user(ORG, "practice_manager")
    await escalate(gw, ORG, t.task_id, 1, pm["_id"])
    page = unescape((await web.get(f"/tasks/{t.task_id}")).text)
    assert "Escalation level 1: the practice manager is responsible now." in page
    assert "Escalated to level 1 — overdue, level 1" in " ".join(re.sub("<[^>]+>", "", page).split())


async def test_suggestions_show_in_queue_board_and_task_page_and_take_decisions(web, gw):
    from services.gateway.tasks import suggestions
    from services.gateway.tests.test_suggestions import FakeNba

    nba = FakeNba()
    suggestions.configure("http://nba", 0.5, token=nba.token,
                          transport=httpx.ASGITransport(app=nba.app))
    try:
        t = created(ORG, 20)
        await gw.deliver(t, ORG)
        first = nba.suggest(t.task_id, org=ORG)
        page = unescape((await web.get("/queue")).text)
        assert "File appeal with medical records" in page and 'data-testid="suggestion"' in page
        board = unescape((await web.get("/board")).text)
        assert "File appeal with medical records" in board
        url = f"/tasks/{t.task_id}"
        page = unescape((await web.get(url)).text)
        assert "Suggested next step" in page and "CARC 50: not medically necessary" in page
        assert "Works 55% of the time" in page
        hx = {"HX-Request": "true"}
        # A chip in the queue: accepted in place.
        r = await web.post(f"{url}/suggestion", headers=hx, data={
            "suggestion_id": first, "decision": "accepted", "action": "call_payer", "where": "chip"})
        assert r.status_code == 200 and "Accepted: File appeal with medical records." in unescape(r.text)
        r = await web.post(f"{url}/suggestion", headers=hx, data={
            "suggestion_id": first, "decision": "dismissed", "where": "chip"})
        assert r.status_code == 409 and "was already decided" in r.text
        page = unescape((await web.get(url)).text)
        assert "You decided on this suggestion" in page
        assert "accepted “File appeal with medical records”" in page
        # The task page: another suggestion, changed to another action.
        second = nba.suggest(t.task_id, org=ORG, action="peer_to_peer")
        del nba.logged[first]
        r = await web.post(f"{url}/suggestion", headers=hx, data={
            "suggestion_id": second, "decision": "modified", "action": "", "where": "task"})
        assert r.status_code == 422 and "a modified decision needs the action" in flash(r.text)[0]
        r = await web.post(f"{url}/suggestion", headers=hx, data={
            "suggestion_id": second, "decision": "modified", "action": "call_payer", "where": "task"})
        assert r.status_code == 200, r.text[-500:]
        assert flash(r.text) == ["Noted: Call payer instead of Request peer-to-peer review."]
        r = await web.post(f"/tasks/{created(ORG, 99).task_id}/suggestion", headers=hx, data={
            "suggestion_id": second, "decision": "accepted", "where": "task"})
        assert r.status_code == 404
    finally:
        suggestions.configure("", 0.5, token="")


async def test_the_task_page_shows_a_late_routing_decision_as_not_applied(web, gw):
    from common.events.generated import TaskRouted

    t = created(ORG, 70, title="Late routing")
    await gw.deliver(t, ORG)
    manager = await gw.user(ORG, "practice_manager")
    biller = await gw.user(ORG, "biller")
    bearer = {"Authorization": manager["Authorization"]}
    tag = (await gw.client.get(f"/api/v1/tasks/{t.task_id}", headers=bearer)).headers["ETag"]
    r = await gw.client.post(f"/api/v1/tasks/{t.task_id}/assignment", headers={**bearer, "If-Match": tag},
                             json={"owner_id": biller["_id"]})
    assert r.status_code == 200, r.text
    await gw.deliver(TaskRouted(task_id=t.task_id, queue="billing", owner_id=manager["_id"],
                                reason="general pool"), ORG)
    html = unescape(re.sub(r"\s+", " ", (await web.get(f"/tasks/{t.task_id}")).text))
    assert "Routing chose <strong>Practice_Manager of webpages</strong>, too late: the owner had been " \
           "set since, so it stays" in html
