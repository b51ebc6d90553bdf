"""A manager learns nothing about other orgs' people: an address is unique within an org,
so adding one that another org uses (active or deactivated there) is answered exactly as a
fresh address is, and makes this org its own account; only the manager's own org can
refuse it (API and admin screen alike). Sign-in opens the account of the org the person
names, else the oldest account the password opens (always the same number of hash checks). Every id a request names is checked against the
signed-in org (routing-rule targets, view and queue owners), with a 422 naming the field.
Demo (.test) addresses are accepted."""
import re
import uuid
from html import unescape

import httpx
import pytest
import sqlalchemy as sa

from services.gateway.directory import store as directory_store
from services.gateway.directory.service import EMAIL_REFUSED
from services.gateway.tests.conftest import PASSWORD, h

A, B = "org-iso-a", "org-iso-b"


def person(email: str, **kw) -> dict:
    return {"email": email, "name": "New Person", "password": "0123456789ab",
            "roles": ["biller"], **kw}


def shape(r: httpx.Response) -> tuple:
    """What an answer tells: status, header names, body keys and the org of the account."""
    body = r.json()
    return r.status_code, sorted(r.headers.keys()), sorted(body), body.get("org_id")


async def test_an_address_another_org_uses_is_answered_as_a_fresh_one(gw):
    pm_a, pm_b = await gw.user(A, "practice_manager"), await gw.user(B, "practice_manager")
    await gw.user(B, "nurse")
    # A deactivated account of org B, too.
    gone = f"gone-{uuid.uuid4().hex[:6]}@{B}.test"
    r = await gw.client.post("/api/v1/users", headers=h(pm_b), json=person(gone))
    assert r.status_code == 201
    r = await gw.client.patch(f"/api/v1/users/{r.json()['id']}", headers=h(pm_b),
                              json={"active": False})
    assert r.status_code == 200
    fresh = await gw.client.post("/api/v1/users", headers=h(pm_a),
                                 json=person(f"fresh-{uuid.uuid4().hex[:6]}@{A}.test"))
    assert fresh.status_code == 201
    await gw.user(B, "biller")
    for email in (f"biller@{B}.test", gone):  # active in another org; deactivated there
        r = await gw.client.post("/api/v1/users", headers=h(pm_a), json=person(email))
        assert shape(r) == shape(fresh), (email, r.text)
        assert r.json()["email"] == email
    # Org B's accounts did not move: still B's, the deactivated one still inactive.
    async with gw.ctx.sessions() as s:
        rows = {(r.org_id, r.active) for r in (await s.execute(sa.select(directory_store.app_user).where(
            directory_store.app_user.c.email == gone))).all()}
    assert rows == {(B, False), (A, True)}
    # The manager's own org refuses its own addresses, active or not, with one answer that
    # names nothing the manager cannot see under People.
    assert EMAIL_REFUSED.startswith("someone in your org") and B not in EMAIL_REFUSED
    for email in (f"practice_manager@{A}.test", gone.upper(), f"BILLER@{B}.test"):
        r = await gw.client.post("/api/v1/users", headers=h(pm_a), json=person(email))
        assert (r.status_code, r.json()) == (409, {"detail": EMAIL_REFUSED}), email


async def test_sign_in_opens_the_named_orgs_account_else_the_oldest_the_password_opens(gw):
    pm_a, pm_b = await gw.user(A, "practice_manager"), await gw.user(B, "practice_manager")
    email = f"two-jobs-{uuid.uuid4().hex[:6]}@{B}.test"
    # Org B's account first (the older), then org A's, each with its own password.
    r = await gw.client.post("/api/v1/users", headers=h(pm_b),
                             json=person(email, password="b-password-1"))
    assert r.status_code == 201
    r = await gw.client.post("/api/v1/users", headers=h(pm_a),
                             json=person(email, password="a-password-1"))
    assert r.status_code == 201

    async def sign_in(password: str, org: str | None = None):
        body = {"email": email, "password": password, **({"org": org} if org else {})}
        r = await gw.client.post("/api/v1/auth/token", json=body)
        gw.client.cookies.clear()
        return r.status_code, r.json().get("user", {}).get("org_id")

    assert await sign_in("b-password-1") == (200, B)
    # The manager of A signs in as the person they added with the password they chose,
    # just as with a fresh address: nothing says org B has the address too.
    assert await sign_in("a-password-1") == (200, A)
    assert await sign_in("a-password-1", org=A) == (200, A)
    assert await sign_in("b-password-1", org=B) == (200, B)
    # A password opens only its own account.
    assert await sign_in("b-password-1", org=A) == (401, None)
    assert await sign_in("a-password-1", org=B) == (401, None)
    assert await sign_in("a-password-1", org="no-such-org") == (401, None)
    r = await gw.client.post("/api/v1/auth/token",
                             json={"email": email, "password": "x", "org": "o\x00"})
    assert r.status_code == 422 and "org" in r.text


async def test_a_demo_address_is_accepted_and_a_bad_one_refused_by_field(gw):
    pm = await gw.user(A, "practice_manager")
    email = f"New.Biller-{uuid.uuid4().hex[:6]}@Demo-Clinic.test"
    r = await gw.client.post("/api/v1/users", headers=h(pm), json=person(email))
    assert r.status_code == 201, r.text
    assert r.json()["email"] == email.lower() and r.json()["org_id"] == A
    r = await gw.client.post("/api/v1/auth/token", json={"email": email, "password": "0123456789ab"})
    assert r.status_code == 200
    gw.client.cookies.clear()
    for bad, problem in [("no-at-sign.test", "email"), ("x@host.invalid", "special-use"),
                         ("a\x00b@x.test", "email"), ("x" * 5_000_000 + "@x.test", "email"),
                         (["a@x.test"], "email")]:
        r = await gw.client.post("/api/v1/users", headers=h(pm), json=person(bad))
        assert r.status_code == 422 and problem in r.text, (bad[:20], r.text[:200])
        assert len(r.content) < 5000
    for field, value in [("name", "N\x00"), ("name", "n" * 5_000_000), ("password", 1234567890),
                         ("skills", ["x" * 61])]:
        r = await gw.client.post("/api/v1/users", headers=h(pm),
                                 json=person(f"ok-{uuid.uuid4().hex[:6]}@x.test", **{field: value}))
        assert r.status_code == 422 and field in r.text and len(r.content) < 5000
    r = await gw.client.post("/api/v1/users", json=person("anon@x.test"))
    assert r.status_code == 401


async def test_the_admin_screen_refuses_only_its_own_orgs_addresses(gw):
    await gw.user(A, "practice_manager")
    await gw.user(B, "nurse")
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=gw.app, client=("admin-web", 1)),
                          base_url="http://gw")
    r = await c.post("/login", data={"email": f"practice_manager@{A}.test", "password": PASSWORD})
    assert r.status_code == 303
    page = (await c.get("/admin/users")).text
    csrf = re.search(r'X-CSRF-Token": "([0-9a-f]+)"', page).group(1)
    assert 'data-testid="add-person"' in page

    async def add(email: str, **kw):
        form = {"csrf": csrf, "name": "Pat Newcomer", "email": email, "password": "0123456789ab",
                "roles": "biller", **kw}
        r = await c.post("/admin/users", data=form)
        got = re.search(r'data-testid="add-flash">([^<]*)<', r.text)
        return r.status_code, unescape(got.group(1)) if got else None

    fresh = f"pat-{uuid.uuid4().hex[:6]}@demo-clinic.test"
    assert await add(fresh) == (200, "Added Pat Newcomer: they can sign in now.")
    assert await add(fresh) == (409, f"Not added: {EMAIL_REFUSED}")
    # Another org's address is a fresh one here: org A gets its own account.
    assert await add(f"nurse@{B}.test") == (200, "Added Pat Newcomer: they can sign in now.")
    status, message = await add("nobody@x.invalid")
    assert status == 422 and "email" in message
    r = await c.post("/admin/users", data={"name": "x", "email": "y@x.test", "password": "z" * 10})
    assert r.status_code == 403  # no CSRF token
    await c.aclose()


async def test_a_routing_rule_may_target_only_a_user_of_the_org(gw):
    pm_a, nurse_b = await gw.user(A, "practice_manager"), await gw.user(B, "nurse")
    biller_a = await gw.user(A, "biller")
    rule = {"id": "to-one", "name": "x", "when": {"task_type_eq": "Denial"},
            "targets": [{"role": "biller"}, {"user": nurse_b["_id"]}]}
    r = await gw.client.put("/api/v1/routing/rules", headers=h(pm_a), json={"rules": [rule]})
    assert r.status_code == 422
    assert r.json()["detail"] == f"rule 1 (to-one): targets[1].user: no user '{nurse_b['_id']}' " \
                                 "in your org"
    for bad in ({"x": 1}, "u" * 65):
        rule["targets"][1] = {"user": bad}
        r = await gw.client.put("/api/v1/routing/rules", headers=h(pm_a), json={"rules": [rule]})
        assert r.status_code == 422 and "targets[1].user must be a user id" in r.text
    rule["targets"][1] = {"user": biller_a["_id"]}
    r = await gw.client.put("/api/v1/routing/rules", headers=h(pm_a), json={"rules": [rule]})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("where", ["view", "queue", "counts"])
async def test_an_owner_filter_names_a_user_of_the_org(gw, where):
    me, nurse_b = await gw.user(A, "biller"), await gw.user(B, "nurse")
    other = nurse_b["_id"]
    if where == "view":
        r = await gw.client.post("/api/v1/views", headers=h(me), json={
            "name": f"theirs-{uuid.uuid4().hex[:4]}", "filters": {"owner": other}})
        field = "filters.owner"
    else:
        path = "/api/v1/queue" if where == "queue" else "/api/v1/queue/counts"
        r = await gw.client.get(path, headers=h(me), params={"owner": other})
        field = "owner"
    assert r.status_code == 422 and r.json()["detail"] == f"{field}: no user '{other}' in your org"
    r = await gw.client.get("/api/v1/queue", headers=h(me), params={"owner": me["_id"]})
    assert r.status_code == 200


async def test_assign_and_subtask_owners_are_users_of_the_org(gw):
    from services.gateway.tests.conftest import created

    pm_a, nurse_b = await gw.user(A, "practice_manager"), await gw.user(B, "nurse")
    t = created(A, 901)
    await gw.deliver(t, A)
    url = f"/api/v1/tasks/{t.task_id}"
    r = await gw.client.post(f"{url}/assignment", headers={**h(pm_a), "If-Match": 'W/"1"'},
                             json={"owner_id": nurse_b["_id"]})
    assert r.status_code == 422 and r.json()["detail"] == \
        f"owner_id: no active user {nurse_b['_id']} in your org"
    r = await gw.client.post(f"{url}/subtasks", headers=h(pm_a),
                             json={"title": "x", "owner_id": nurse_b["_id"]})
    assert r.status_code == 422 and "owner_id: no user" in r.json()["detail"]
    detail = (await gw.client.get(url, headers=h(pm_a))).json()
    assert detail["owner_id"] is None and detail["subtasks"] == []
