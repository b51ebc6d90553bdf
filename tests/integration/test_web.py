"""The staff web app in real headless Chromium (Debian's, driven by Playwright) against the
whole stack: a biller's and a practice manager's main journeys, what each may not open,
the board's drag and drop (and a refused move snapping back), an accessibility check of
the main pages, and the screenshots the README shows."""
from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from faker import Faker
from playwright.async_api import Page, async_playwright, expect

from scripts import demo_org
from services.gateway.directory.seed import seed_user_id
from tests.integration.conftest import all_tasks, eventually, utc_today

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
AXE = ROOT / "services" / "gateway" / "web" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
ORG = f"web-{uuid.uuid4().hex[:6]}"
OTHER = f"webx-{uuid.uuid4().hex[:6]}"


def uid(email: str) -> str:
    """A seeded user's id; every test address is name@<org>.test."""
    return seed_user_id(email.rsplit("@", 1)[1].removesuffix(".test"), email)


@pytest.fixture(scope="module")
async def clinic(stack):
    """A demo clinic (the `make run` staff and a realistic mix of work, routed), and a
    second org with a task of its own."""
    fake = Faker("en_US")
    Faker.seed(11)
    people = demo_org.staff(ORG, fake)
    await asyncio.to_thread(stack.seed_payers)
    await asyncio.to_thread(stack.seed_users, people)
    await asyncio.to_thread(stack.register_org, ORG)
    physician = next(u for u in people["users"] if u["roles"] == ["physician"])
    n = await demo_org.load(ORG, denials=40, seed=11, each=3, physician_id=uid(physician["email"]))

    async def routed():
        tasks = await all_tasks(stack, ORG)
        return tasks if len(tasks) >= n - 2 and all(t["queue"] for t in tasks) else None

    tasks = await eventually(routed, timeout=90, every=0.5)
    other = demo_org.staff(OTHER, fake)
    await asyncio.to_thread(stack.seed_users, other)
    await asyncio.to_thread(stack.register_org, OTHER)
    await demo_org.load(OTHER, denials=1, seed=12, each=0)
    other_tasks = await eventually(lambda: all_tasks(stack, OTHER), timeout=60)
    by_role = {u["roles"][0]: u for u in reversed(people["users"])}
    return {"tasks": tasks, "other_task": other_tasks[0], "people": people,
            "biller": by_role["biller"], "manager": by_role["practice_manager"],
            "url": stack["gateway-api"].url}


@pytest.fixture(scope="module")
async def chromium():
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield browser
        await browser.close()


async def signed_in(chromium, clinic, who: str, **context) -> Page:
    ctx = await chromium.new_context(base_url=clinic["url"],
                                     **{"viewport": {"width": 1440, "height": 900}, **context})
    # Record what the Content-Security-Policy blocks (an init script is not subject to it).
    await ctx.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                              "(window.__csp = window.__csp || []).push("
                              "e.violatedDirective + ' ' + e.blockedURI))")
    page = await ctx.new_page()
    await page.goto("/queue")
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await page.get_by_label("E-mail").fill(clinic[who]["email"])
    await page.get_by_label("Password").fill(demo_org.DEMO_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/queue$"))
    return page


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=SHOTS / f"{name}.png", full_page=False)


async def rows(page: Page):
    return page.locator("#queue-rows tr[data-task-id]")


async def test_biller_works_a_task_from_the_queue(chromium, clinic):
    page = await signed_in(chromium, clinic, "biller")
    biller = clinic["biller"]
    await expect(page.get_by_test_id("me-name")).to_have_text(biller["name"])
    await expect(page.get_by_test_id("me-role")).to_have_text("Biller")
    await expect(page.get_by_test_id("me-org")).to_have_text(ORG)
    await expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    assert await (await rows(page)).count() > 0

    # A view: only denials.
    await page.get_by_role("link", name="Denial Queue").click()
    await expect(page).to_have_url(re.compile(r"view=Denial"))
    types = await page.locator("#queue-rows td[data-label=Type]").all_inner_texts()
    assert types and set(types) == {"Denial"}

    # Filter within it: High priority only (the list updates in place, the URL follows).
    await page.get_by_label("Priority").select_option("High")
    await expect(page).to_have_url(re.compile(r"priority=High"))
    await expect(page.locator("#queue-rows td[data-label=Priority]").first).to_have_text("High")
    prios = await page.locator("#queue-rows td[data-label=Priority]").all_inner_texts()
    assert prios and set(prios) == {"High"}
    # Save it as a view of my own, and switch to it later.
    await page.get_by_text("Save these filters as a view").click()
    await page.get_by_label("Name").fill("High denials")
    await page.get_by_role("button", name="Save view").click()
    await expect(page.get_by_role("link", name="High denials mine")).to_have_attribute("aria-current", "page")
    await page.get_by_role("link", name="All work").click()
    await expect(page.get_by_label("Priority")).to_have_value("")
    await page.get_by_role("link", name="High denials mine").click()
    await expect(page.locator("#queue-rows td[data-label=Priority]").first).to_have_text("High")
    prios = await page.locator("#queue-rows td[data-label=Type]").all_inner_texts()
    assert set(prios) == {"Denial"}
    await page.get_by_role("link", name="Denial Queue").click()
    await expect(page.get_by_test_id("suggestion").first).to_be_visible()  # nba's, inline
    await shot(page, "queue")

    # Open the first of my tasks.
    await page.get_by_role("link", name="My Tasks").click()
    first = page.locator("#queue-rows tr[data-task-id] .title-cell a").first
    title = await first.inner_text()
    await first.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await expect(page.get_by_test_id("task-status")).to_have_text("Requested")
    task_id = page.url.rsplit("/", 1)[1]

    # nba's suggested next step: the biller does something else instead, and says which.
    panel = page.get_by_test_id("next-step")
    await expect(panel.get_by_test_id("suggestion")).to_be_visible()
    suggested = await panel.locator(".suggest-label").inner_text()
    other = panel.get_by_label("Another action")
    instead = (await other.locator("option").first.inner_text()).strip()
    await other.select_option(label=instead)
    await panel.get_by_role("button", name="Do this instead").click()
    await expect(page.get_by_test_id("flash")).to_have_text(f"Noted: {instead} instead of {suggested}.")
    await expect(page.get_by_test_id("history")).to_contain_text("Suggestion changed")
    await expect(page.get_by_test_id("last-decision")).to_contain_text(f"chose “{instead}” instead of “{suggested}”")

    # Start work: the status changes and the history says so.
    await page.get_by_label("Reason (optional)").first.fill("calling the payer")
    await page.get_by_role("button", name="In progress").click()
    await expect(page.get_by_test_id("task-status")).to_have_text("In progress")
    await expect(page.get_by_test_id("flash")).to_have_text("Status is now in progress.")
    await expect(page.get_by_test_id("history")).to_contain_text("calling the payer")

    # A note and a time entry.
    await page.get_by_label("Add a note").fill("Payer asked for the operative report.")
    await page.get_by_role("button", name="Add note").click()
    await expect(page.get_by_test_id("notes")).to_contain_text("Payer asked for the operative report.")
    await page.get_by_label("Minutes").fill("0")
    await page.get_by_label("Action", exact=True).fill("Payer call")
    await page.get_by_role("button", name="Log time").click()  # the browser explains first
    assert await page.get_by_label("Minutes").evaluate("el => el.validationMessage")
    await expect(page.get_by_test_id("total-minutes")).to_have_text("0 min")
    await page.get_by_label("Minutes").fill("25")
    await page.get_by_label("Action", exact=True).fill("Payer call")
    await page.get_by_role("button", name="Log time").click()
    await expect(page.get_by_test_id("total-minutes")).to_have_text("25 min")
    await expect(page.get_by_test_id("time-entries")).to_contain_text("Payer call")

    # A move the state machine refuses is not offered; a final one ends the buttons.
    await expect(page.get_by_role("button", name="Requested")).to_have_count(0)

    # Reassign to the practice manager.
    manager = clinic["manager"]
    await page.get_by_label("Assign to").select_option(uid(manager["email"]))
    await page.get_by_role("button", name="Reassign").click()
    await expect(page.get_by_test_id("flash")).to_have_text("Assigned.")
    await expect(page.get_by_test_id("history")).to_contain_text(f"Reassigned to {manager['name']}")
    await shot(page, "task")

    # Accept a suggestion right in the queue, on another task's row.
    await page.goto("/queue?view=Denial%20Queue")
    chip = page.locator(f"#queue-rows tr[data-task-id]:not([data-task-id='{task_id}']) "
                        "[data-testid=suggestion]").first
    label = await chip.locator(".suggest-label").inner_text()
    await chip.locator("summary").click()
    await chip.get_by_role("button", name="Accept").click()
    await expect(page.get_by_test_id("suggestion-done").first).to_have_text(f"✓ Accepted: {label}.")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await page.goto("/queue")  # the session is gone
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await page.context.close()


async def test_biller_calls_the_payer_and_writes_down_what_came_of_it(chromium, clinic, outside):
    biller = clinic["biller"]
    mine = [t for t in clinic["tasks"] if t["owner_id"] == uid(biller["email"]) and t["payer_id"]
            and t["task_type"] == "Denial"]
    task = mine[-1]
    page = await signed_in(chromium, clinic, "biller")
    await page.goto(f"/tasks/{task['id']}")
    contact = page.get_by_test_id("payer-contact")
    await contact.get_by_test_id("call-payer").click()
    await expect(page.get_by_test_id("contact-flash")).to_contain_text("your phone rings first")
    await expect(contact.get_by_test_id("interaction")).to_have_count(1)

    # Twilio rings the biller's phone, bridges the payer, and the call ends: the page follows.
    async def placed():
        return next((c for c in reversed(outside.twilio.calls) if c.to == biller["phone"]), None)
    call = await eventually(placed, timeout=30)
    for status in ("initiated", "ringing", "in-progress"):
        await asyncio.to_thread(outside.twilio.send_status, call.sid, status)
    await expect(contact.get_by_test_id("interaction-status")).to_have_text("On the call", timeout=15000)
    await asyncio.to_thread(outside.twilio.send_status, call.sid, "completed", CallDuration="263")
    prompt = page.get_by_test_id("outcome-prompt")
    await expect(prompt).to_be_visible(timeout=15000)
    await expect(prompt).to_contain_text("after 4 min 23 s")
    await prompt.get_by_label("Reference number").fill("REF-20931")
    await prompt.get_by_label("Claim status").fill("in review")
    await prompt.get_by_label("Next step").fill("resubmit with modifier 25")
    follow = (utc_today() + timedelta(days=7)).isoformat()
    await prompt.get_by_label("Follow up on").fill(follow)
    await prompt.get_by_role("button", name="Save outcome").click()
    await expect(page.get_by_test_id("contact-flash")).to_have_text(
        "Outcome saved as a note, follow-up sub-task created.")
    await expect(page.get_by_test_id("outcome-prompt")).to_have_count(0)
    await expect(contact.get_by_test_id("interaction-reference")).to_have_text("REF-20931")
    await expect(contact.get_by_test_id("interaction")).to_contain_text("Next: resubmit with modifier 25.")
    await page.reload()
    await expect(page.get_by_test_id("notes")).to_contain_text("reference REF-20931")
    await expect(page.locator(".subtasks")).to_contain_text("Follow up with")
    await contact.scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    await contact.screenshot(path=SHOTS / "task-call.png")
    await page.context.close()


async def test_board_drag_moves_a_card_and_a_refused_move_snaps_back(chromium, clinic):
    page = await signed_in(chromium, clinic, "biller")
    await page.goto("/board")
    await page.get_by_label("Only mine").check()  # saved for this user
    await expect(page).to_have_url(re.compile(r"mine=true"))
    todo = page.locator('.cards[data-column="To Do"] > li.card')
    progress = page.locator('.cards[data-column="In Progress"]')
    done = page.locator('.cards[data-column="Done"]')
    await expect(todo.first).to_be_visible()
    before = int(await page.locator('.count[data-count="In Progress"]').inner_text())

    card = todo.first
    task_id = await card.get_attribute("data-task-id")
    await drag(page, card, progress)
    await expect(page.locator(".toasts")).to_contain_text("Moved to In Progress")
    await expect(progress.locator(f'li[data-task-id="{task_id}"]')).to_be_visible()
    await expect(page.locator('.count[data-count="In Progress"]')).to_have_text(str(before + 1))

    # To Do → Done skips the work: refused, the card returns, and the page says why.
    card = todo.first
    refused_id = await card.get_attribute("data-task-id")
    await drag(page, card, done)
    await expect(page.locator(".toasts")).to_contain_text("cannot move to Done")
    await expect(page.locator(f'.cards[data-column="To Do"] li[data-task-id="{refused_id}"]')).to_be_visible()
    await expect(done.locator(f'li[data-task-id="{refused_id}"]')).to_have_count(0)

    # Persisted: after a reload the moved card is still in progress, and the filter held.
    await page.goto("/board")
    await expect(page.get_by_label("Only mine")).to_be_checked()
    await expect(progress.locator(f'li[data-task-id="{task_id}"]')).to_be_visible()

    # The keyboard way: the card's menu.
    card = progress.locator(f'li[data-task-id="{task_id}"]')
    await card.get_by_label(re.compile("^Move ")).select_option("Review")
    await expect(page.locator('.cards[data-column="Review"]').locator(
        f'li[data-task-id="{task_id}"]')).to_be_visible()
    await shot(page, "board")
    assert await page.evaluate("window.__csp || []") == []  # htmx and Sortable within the CSP
    await page.context.close()


async def drag(page: Page, card, target) -> None:
    """Drag with the mouse as a person would (SortableJS listens to pointer events)."""
    box = await card.bounding_box()
    dest = await target.bounding_box()
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 12)
    await page.mouse.down()
    await page.mouse.move(box["x"] + box["width"] / 2 + 10, box["y"] + 20, steps=3)
    await page.mouse.move(dest["x"] + dest["width"] / 2, dest["y"] + 30, steps=15)
    await page.mouse.move(dest["x"] + dest["width"] / 2, dest["y"] + 40, steps=3)
    await page.mouse.up()


async def test_manager_edits_people_rules_and_reads_the_audit_trail(chromium, clinic):
    page = await signed_in(chromium, clinic, "manager")
    await page.get_by_role("link", name="Admin").click()
    await expect(page.get_by_role("heading", name=f"People of {ORG}")).to_be_visible()

    # A biller gets a new skill tag.
    biller = clinic["biller"]
    row = page.get_by_test_id("person").filter(has_text=biller["email"])
    skills = row.get_by_label("Skill tags")
    await skills.fill(await skills.input_value() + ", Spanish")
    await row.get_by_role("button", name="Save").click()
    await expect(row.get_by_role("status")).to_have_text(f"Saved {biller['name']}.")
    await expect(row.get_by_label("Skill tags")).to_have_value(re.compile("Spanish"))
    # Validation explains itself: more than 50 skill tags is refused by the server.
    await row.get_by_label("Skill tags").fill(", ".join(f"Tag{i}" for i in range(51)))
    await row.get_by_role("button", name="Save").click()
    await expect(row.get_by_role("alert")).to_contain_text("skills: List should have at most 50 items")
    await expect(row.get_by_label("Skill tags")).to_have_value(re.compile("Spanish"))

    # A mobile number for SLA alerts: a malformed one is refused, a good one kept.
    await row.get_by_label("Mobile for SLA alerts").fill("555-0123")
    await row.get_by_role("button", name="Save").click()
    assert await row.get_by_label("Mobile for SLA alerts").evaluate("e => !e.checkValidity()")
    await row.get_by_label("Mobile for SLA alerts").fill("+15555550123")
    await row.get_by_role("button", name="Save").click()
    await expect(row.get_by_role("status")).to_have_text(f"Saved {biller['name']}.")
    await expect(row.get_by_label("Mobile for SLA alerts")).to_have_value("+15555550123")

    # A routing rule: high-value claims now start above $7,500.
    await page.get_by_role("link", name="Routing rules").click()
    await page.get_by_role("link", name="Edit rule Claims over $5,000 to a senior biller").click()
    await page.get_by_label("Name").fill("Claims over $7,500 to a senior biller")
    when = page.get_by_label("Conditions (JSON)")
    await when.fill((await when.input_value()).replace("5000", "7500"))
    await page.get_by_role("button", name="Save rule").click()
    await expect(page.get_by_test_id("flash")).to_contain_text("Rule 'high-value' saved")
    await expect(page.get_by_test_id("rules")).to_contain_text("amount > 7500")
    await shot(page, "admin-routing")
    async with httpx.AsyncClient(base_url=clinic["url"], cookies=await cookies(page)) as c:
        rules = (await c.get("/api/v1/routing/rules")).json()
    assert next(r for r in rules["rules"] if r["id"] == "high-value")["when"]["amount_gt"] == 7500

    # A rule naming a skill nobody has is refused, naming the rule and the problem.
    await page.get_by_role("link", name="Edit rule Claims over $7,500 to a senior biller").click()
    await page.get_by_label("Targets, in order (JSON)").fill('[{"skills": ["Klingon"]}]')
    await page.get_by_role("button", name="Save rule").click()
    await expect(page.get_by_test_id("flash")).to_contain_text("nobody in the org has the skill 'Klingon'")
    await expect(page.get_by_test_id("flash")).to_contain_text("high-value")

    # An SLA policy: denials due in 10 business days; business hours that end before they
    # start are refused with the reason, then corrected.
    await page.get_by_role("link", name="SLA policies").click()
    await page.get_by_role("link", name="Add a policy").click()
    form = page.get_by_test_id("sla-form")
    await form.get_by_label("Policy id").fill("denials")
    await form.get_by_label("Task type").select_option("Denial")
    await form.get_by_label("Due after").fill("80")
    await form.get_by_label("Unit").select_option("hours")
    await form.get_by_label("Opens").fill("17:00")
    await form.get_by_label("Closes").fill("09:00")
    await form.get_by_label("Time zone").fill("America/Chicago")
    await form.get_by_label("Weekends don't count").check()
    await form.get_by_label("Holidays").fill("2026-12-25, 2027-01-01")
    await form.get_by_role("button", name="Save policy").click()
    await expect(page.get_by_test_id("flash")).to_contain_text("end must be after start")
    await expect(page.get_by_test_id("sla-form").get_by_label("Holidays")).to_have_value("2026-12-25, 2027-01-01")
    await page.get_by_test_id("sla-form").get_by_label("Opens").fill("08:00")
    await page.get_by_test_id("sla-form").get_by_label("Closes").fill("17:00")
    await page.get_by_role("button", name="Save policy").click()
    await expect(page.get_by_test_id("flash")).to_contain_text("Policy 'denials' saved: version 1")
    await expect(page.get_by_test_id("sla-policies")).to_contain_text(
        "80 h of business hours (08:00–17:00 America/Chicago, weekdays, 2 holidays)")
    await page.get_by_label("Name").fill("clearinghouse-upgrade")
    await page.get_by_label("Starts (UTC)").fill("2026-12-06T02:00")
    await page.get_by_label("Ends (UTC)").fill("2026-12-06T05:00")
    await page.get_by_role("button", name="Add window").click()
    await expect(page.get_by_test_id("windows")).to_contain_text("clearinghouse-upgrade")
    await shot(page, "admin-sla")
    async with httpx.AsyncClient(base_url=clinic["url"], cookies=await cookies(page)) as c:
        sla = (await c.get("/api/v1/sla/policies")).json()
    assert sla["version"] == 2 and sla["policies"][0]["deadline_hours"] == 80
    assert sla["policies"][0]["calendar"]["holidays"] == ["2026-12-25", "2027-01-01"]

    # The audit trail: the biller's actions, searchable, exportable.
    await page.get_by_role("link", name="Audit trail").click()
    await page.get_by_label("Who").select_option(uid(biller["email"]))
    await page.get_by_role("button", name="Search").click()
    table = page.get_by_test_id("audit-table")
    await expect(table).to_contain_text("status")
    await expect(table).to_contain_text(biller["name"])
    async with page.expect_download() as dl:
        await page.get_by_test_id("csv").click()
    csv_text = await asyncio.to_thread(Path(await (await dl.value).path()).read_text)
    assert csv_text.startswith("at,actor_id,action") and uid(biller["email"]) in csv_text
    await shot(page, "admin-audit")
    await page.context.close()


async def cookies(page: Page) -> dict:
    return {c["name"]: c["value"] for c in await page.context.cookies()}


async def test_biller_cannot_open_admin_screens_or_another_orgs_task(chromium, clinic):
    page = await signed_in(chromium, clinic, "biller")
    for path in ("/admin/users", "/admin/routing", "/admin/sla", "/admin/audit"):
        resp = await page.goto(path)
        assert resp.status == 403
        await expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
        await expect(page.locator("main")).to_contain_text("Only a practice manager or org admin")
    resp = await page.goto(f"/tasks/{clinic['other_task']['id']}")
    assert resp.status == 404
    await expect(page.locator("main")).to_contain_text("not one of your org's")
    assert clinic["other_task"]["title"] not in await page.content()
    # Nor by the API, with the same session.
    async with httpx.AsyncClient(base_url=clinic["url"], cookies=await cookies(page)) as c:
        assert (await c.get(f"/api/v1/tasks/{clinic['other_task']['id']}")).status_code == 404
        assert (await c.get("/api/v1/audit")).status_code == 403
    # A form posted without the page's CSRF token is refused.
    async with httpx.AsyncClient(base_url=clinic["url"], cookies=await cookies(page)) as c:
        r = await c.post("/board/move", json={"task_id": clinic["tasks"][0]["id"], "version": 1,
                                              "column": "In Progress"})
        assert r.status_code == 403
    await page.context.close()


async def test_main_pages_have_no_serious_accessibility_violations(chromium, clinic):
    page = await signed_in(chromium, clinic, "manager")
    task_id = clinic["tasks"][0]["id"]
    for path in ("/queue", "/board", f"/tasks/{task_id}", "/triage", "/admin/users", "/admin/routing",
                 "/admin/sla", "/admin/sla/policies/new", "/admin/audit", "/login"):
        if path == "/login":
            await page.context.clear_cookies()
        resp = await page.goto(path)
        assert await page.title(), f"{path} has no title"
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
        assert await page.evaluate("window.__csp || []") == [], f"{path}: the CSP blocked something"
        # axe by evaluation: the CSP refuses an injected inline <script>, as it should.
        await page.evaluate(AXE.read_text())
        result = await page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        serious = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"][:3]])
                   for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious, f"{path}: {serious}"
    await page.context.close()


async def test_phone_layout_shows_the_queue_as_cards(chromium, clinic):
    page = await signed_in(chromium, clinic, "biller", viewport={"width": 390, "height": 844},
                           is_mobile=True, has_touch=True)
    first = page.locator("#queue-rows tr[data-task-id]").first
    await expect(first).to_be_visible()
    assert await page.locator(".queue thead").is_hidden()  # rows stack as cards
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    await shot(page, "queue-phone")
    await page.context.close()
