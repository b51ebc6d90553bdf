"""Sign-in defends itself: one answer (and about the same time) for an unknown e-mail and a
wrong password, failures limited per account and per client address in Redis (429 with
Retry-After, API and web form alike), a session cookie that script cannot read and that
ends with its token, and security headers (a CSP without inline script) on every answer."""
import hashlib
import re
import statistics
import time
import uuid
from pathlib import Path

import httpx
import pytest

from common.runtime import create_api
from services.gateway import auth
from services.gateway.app import SERVICE
from services.gateway.tests.conftest import PASSWORD

ORG = "org-signin"
WEB = Path(__file__).resolve().parents[1] / "web"


def client_from(gw, address: str) -> httpx.AsyncClient:
    """A client whose requests come from their own address (counted apart)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=gw.app, client=(address, 4321)),
                             base_url="http://gw")


def address() -> str:
    return f"192.0.2.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:6]}"  # a label per test


async def test_unknown_email_and_wrong_password_get_the_same_answer_in_about_the_same_time(gw):
    await gw.user(ORG, "biller")
    # An address with accounts in two orgs (another org's manager added it too).
    await gw.user(ORG, "care_coordinator")
    other = await gw.user("org-signin-other", "practice_manager")
    shared = f"care_coordinator@{ORG}.test"
    r = await gw.client.post("/api/v1/users", headers={"Authorization": other["Authorization"]},
                             json={"email": shared, "name": "Same Person", "roles": ["care_coordinator"],
                                   "password": "another-password"})
    assert r.status_code == 201, r.text
    known, unknown = f"biller@{ORG}.test", f"nobody-{uuid.uuid4().hex[:8]}@{ORG}.test"
    async with client_from(gw, address()) as c:
        answers, times = {}, {known: [], unknown: [], shared: []}
        for _ in range(7):  # 21 failures: under the address limit, 7 under each account's
            for email in (known, unknown, shared):
                t = time.perf_counter()
                r = await c.post("/api/v1/auth/token", json={"email": email, "password": "wrong!"})
                times[email].append(time.perf_counter() - t)
                answers[email] = (r.status_code, r.json(), r.headers.get("WWW-Authenticate"))
    assert answers[known] == answers[unknown] == answers[shared] == (
        401, {"detail": "wrong e-mail or password"}, "Bearer")
    for email in (known, shared):  # all pay the same number of argon2 verifications
        ratio = statistics.median(times[email]) / statistics.median(times[unknown])
        assert 0.5 < ratio < 2.0, (email, ratio, times)


async def test_failures_per_account_are_limited_with_retry_after(gw):
    await gw.user(ORG, "nurse")
    email = f"nurse@{ORG}.test"
    async with client_from(gw, address()) as c:
        await c.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
        for _ in range(10):  # the limit (GATEWAY_SIGNIN_MAX_FAILURES_PER_ACCOUNT)
            r = await c.post("/api/v1/auth/token", json={"email": email, "password": "guess"})
            assert r.status_code == 401
    # From anywhere, even with the right password, the account waits out the window.
    async with client_from(gw, address()) as c:
        r = await c.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
        assert r.status_code == 429, r.text
        assert 0 < int(r.headers["Retry-After"]) <= 15 * 60
        assert r.json()["detail"] == "too many failed sign-ins: try again in 15 minutes"
        assert "set-cookie" not in r.headers
        r = await c.post("/login", data={"email": email, "password": PASSWORD, "next": "/queue"})
        assert r.status_code == 429 and "Retry-After" in r.headers
        assert "too many failed sign-ins" in r.text and auth.COOKIE not in r.cookies


async def test_a_success_starts_the_account_afresh(gw):
    await gw.user(ORG, "physician")
    email = f"physician@{ORG}.test"
    async with client_from(gw, address()) as c:
        for _ in range(3):
            for _ in range(9):
                assert (await c.post("/api/v1/auth/token",
                                     json={"email": email, "password": "guess"})).status_code == 401
            r = await c.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
            assert r.status_code == 200  # 27 failures in all, never 10 in a row


async def test_failures_per_address_are_limited_across_accounts(gw):
    where = address()
    async with client_from(gw, where) as c:
        for i in range(50):  # GATEWAY_SIGNIN_MAX_FAILURES_PER_ADDRESS, one per account
            r = await c.post("/api/v1/auth/token",
                             json={"email": f"u{i}-{where}@x.test", "password": "guess"})
            assert r.status_code == 401
        r = await c.post("/api/v1/auth/token", json={"email": "one-more@x.test", "password": "g"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    async with client_from(gw, address()) as c:  # another address is not held up
        r = await c.post("/api/v1/auth/token", json={"email": "one-more@x.test", "password": "g"})
        assert r.status_code == 401


async def test_the_counts_live_in_redis_keyed_by_a_digest_not_the_email(gw):
    where = address()
    email = f"digest-{uuid.uuid4().hex[:6]}@x.test"
    async with client_from(gw, where) as c:
        await c.post("/api/v1/auth/token", json={"email": email, "password": "guess"})
    limiter = gw.app.state.signin_limiter
    account = hashlib.sha256(email.encode()).hexdigest()[:32]
    prefix = f"{gw.ctx.settings.database_prefix}gateway:signin:"
    assert await limiter.redis.get(f"{prefix}account:{account}") == b"1"
    assert await limiter.redis.get(f"{prefix}address:{where}") == b"1"
    keys = [k.decode() async for k in limiter.redis.scan_iter(f"{prefix}*")]
    assert not [k for k in keys if "@" in k]


@pytest.mark.parametrize("body", [
    {"email": "a\x00b@x.test", "password": "p"}, {"email": "x" * 5_000_000, "password": "p"},
    {"email": ["list"], "password": "p"}, {"email": "a@x.test"}])
async def test_a_malformed_sign_in_gets_a_clear_422(gw, body):
    async with client_from(gw, address()) as c:
        r = await c.post("/api/v1/auth/token", json=body)
    assert r.status_code == 422 and len(r.content) < 5000


async def test_the_session_cookie_is_httponly_samesite_and_ends_with_its_token(gw, migrate):
    await gw.user(ORG, "care_coordinator")
    email = f"care_coordinator@{ORG}.test"
    async with client_from(gw, address()) as c:
        r = await c.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
        cookie = r.headers["set-cookie"]
        assert r.json()["expires_in"] == 8 * 3600
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=28800" in cookie
        assert "Path=/" in cookie and "Secure" not in cookie  # development: plain http
        r = await c.post("/login", data={"email": email, "password": PASSWORD, "next": "/queue"})
        assert r.status_code == 303 and "Max-Age=28800" in r.headers["set-cookie"]
    # Outside development mode the cookie is Secure (the app signs with a real key).
    prod = create_api(SERVICE, migrate(SERVICE, environment="production",
                                       jwt_secret="k" * 40, service_token="s" * 40,
                                       token_ttl_minutes=30))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=prod),
                                 base_url="https://gw") as c:
        for path, kw in (("/api/v1/auth/token", {"json": {"email": email, "password": PASSWORD}}),
                         ("/login", {"data": {"email": email, "password": PASSWORD}})):
            r = await c.post(path, **kw)
            cookie = r.headers["set-cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie and "Max-Age=1800" in cookie
    await prod.state.signin_limiter.close()


async def test_every_answer_carries_the_security_headers(gw):
    async with client_from(gw, address()) as c:
        for path in ("/login", "/api/v1/me", "/static/app.js", "/api/v1/queue", "/fhir/Task",
                     "/healthz", "/nowhere"):
            r = await c.get(path)
            csp = r.headers.get("content-security-policy", "")
            assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp, path
            assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
            assert "unsafe-eval" not in csp
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
            assert r.headers["x-frame-options"] == "DENY"
        # The API docs: their own inline script by hash, nothing else inline.
        r = await c.get("/docs")
        csp = r.headers["content-security-policy"]
        [script] = re.findall(rb"<script>(.*?)</script>", r.content, re.S)
        import base64

        digest = base64.b64encode(hashlib.sha256(script).digest()).decode()
        assert f"'sha256-{digest}'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert int(r.headers["content-length"]) == len(r.content)


def test_no_template_carries_inline_script():
    """What the CSP would block: inline <script>, on*= handlers, hx-on, javascript: URLs,
    <style> elements; htmx is told not to eval."""
    bad = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|hx-on|javascript:|<style|"
                     r"hx-vals=['\"]js:|hx-vars", re.I)
    found = {p.name: m.group(0) for p in (WEB / "templates").rglob("*.html")
             if (m := bad.search(p.read_text()))}
    assert found == {}
    base = (WEB / "templates" / "base.html").read_text()
    assert '"allowEval": false' in base and '"includeIndicatorStyles": false' in base
