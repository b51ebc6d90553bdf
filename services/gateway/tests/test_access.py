"""Every endpoint, every role, another org's ids: all refused, nothing of the other org in
any answer. Routes are enumerated from the app, so a new endpoint cannot slip past."""
import re

import pytest

from services.gateway import domain
from services.gateway.tests.conftest import created, h

A = "org-alpha"
B = "org-bravo"
# What only org A's data contains (ids that org B sends may be echoed back in errors).
MARKERS = ("org-alpha", "payer-alpha", "Alpha view", "ALPHA-SECRET")


def bodies(a: dict) -> dict[tuple[str, str], dict | None]:
    """A well-formed request body for every write endpoint, aimed at org A's things."""
    return {
        ("POST", "/api/v1/tasks/{task_id}/status"): {"status": "in-progress"},
        ("POST", "/api/v1/tasks/{task_id}/assignment"): {"owner_id": a["user_id"]},
        ("POST", "/api/v1/tasks/{task_id}/notes"): {"text": "hello"},
        ("POST", "/api/v1/tasks/{task_id}/time"): {"minutes": 5, "action": "call"},
        ("POST", "/api/v1/tasks/{task_id}/subtasks"): {"title": "x"},
        ("POST", "/api/v1/tasks/{task_id}/suggestion/decision"): {
            "suggestion_id": "00000000-0000-4000-8000-000000000001", "decision": "dismissed"},
        ("POST", "/api/v1/views"): {"name": "B's view", "filters": {"sla": "overdue"}},
        ("POST", "/api/v1/users"): {"email": "new@b.test", "name": "N", "password": "0123456789ab",
                                    "roles": ["biller"]},
        ("POST", "/api/v1/auth/token"): {"email": a["email"], "password": "correct horse battery x"},
        ("PATCH", "/api/v1/users/{user_id}"): {"away": True, "capacity": 0},
        ("PUT", "/api/v1/routing/rules"): {"rules": []},
        ("PUT", "/api/v1/task-policies/{task_type}"): {"sla_days": 3},
        ("POST", "/api/v1/tasks/{task_id}/calls"): {},
        ("POST", "/api/v1/tasks/{task_id}/messages"): {"channel": "sms", "body": "hello"},
        ("POST", "/api/v1/interactions/{interaction_id}/outcome"): {"reference_number": "R-1"},
        ("POST", "/api/v1/interactions/{interaction_id}/attach"): {"task_id": a["task_id"]},
        ("PUT", "/fhir/Task/{task_id}"): {"resourceType": "Task", "status": "in-progress",
                                          "intent": "order", "id": a["task_id"]},
    }


def query(a: dict, path: str) -> dict:
    return {
        "/api/v1/queue": {"patient_id": a["patient"], "owner": a["user_id"]},
        "/api/v1/queue/counts": {"patient_id": a["patient"]},
        "/api/v1/tasks": {"id": a["task_id"]},
        "/api/v1/audit": {"task_id": a["task_id"]},
        "/fhir/Task": {"patient": f"Patient/{a['patient']}"},
        "/fhir/Communication": {"part-of": f"Task/{a['task_id']}"},
    }.get(path, {})


@pytest.fixture(scope="module")
async def alpha(gw):
    pm = await gw.user(A, "practice_manager")
    t = created(A, 1, patient_id="PT-ALPHA-1", payer_id="payer-alpha",
                title="ALPHA-SECRET denial", patient_name="ALPHA-SECRET, Pat")
    await gw.deliver(t, A)
    await gw.client.post(f"/api/v1/tasks/{t.task_id}/notes", json={"text": "ALPHA-SECRET"},
                         headers=h(pm))
    r = await gw.client.post("/api/v1/views", json={"name": "Alpha view", "shared": True,
                                                    "filters": {}}, headers=h(pm))
    call = await gw.client.post(f"/api/v1/tasks/{t.task_id}/calls", json={}, headers=h(pm))
    return {"task_id": str(t.task_id), "patient": "PT-ALPHA-1", "user_id": pm["_id"],
            "view_id": r.json()["id"], "email": f"practice_manager@{A}.test",
            "interaction_id": call.json()["id"]}


def routes(app):
    """Every documented endpoint of the API and FHIR surfaces."""
    for path, ops in app.openapi()["paths"].items():
        if path.startswith(("/api/", "/fhir/")):
            for method in ops:
                yield method.upper(), path


@pytest.mark.parametrize("role", domain.ROLES)
async def test_another_orgs_ids_are_refused_and_never_shown(gw, alpha, role):
    me = await gw.user(B, role)
    await gw.deliver(created(B, 1), B)  # org B has work of its own
    table = bodies(alpha)
    covered = 0
    for method, path in routes(gw.app):
        url = re.sub(r"{task_id}", alpha["task_id"], path)
        url = re.sub(r"{view_id}", alpha["view_id"], url)
        url = re.sub(r"{user_id}", alpha["user_id"], url)
        url = re.sub(r"{interaction_id}", alpha["interaction_id"], url)
        url = re.sub(r"{communication_id}", alpha["interaction_id"], url)
        body = table.get((method, path))
        r = await gw.client.request(method, url, json=body, params=query(alpha, path),
                                    headers={**h(me), "If-Match": 'W/"2"'})
        text = r.text
        leaked = [m for m in MARKERS if m in text]
        assert not leaked, f"{role} {method} {path} → {r.status_code} shows {leaked}: {text[:300]}"
        if "{" in path:  # aimed at one of org A's things
            assert r.status_code in (403, 404), f"{role} {method} {path} → {r.status_code} {text[:200]}"
        elif method == "POST" and path == "/api/v1/auth/token":
            assert r.status_code == 401
        covered += 1
    assert covered >= 17
