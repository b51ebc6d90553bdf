"""schemathesis against the gateway's and intake's OpenAPI, over real HTTP: whatever it
generates, no answer is a 5xx. Bounded (a few examples per operation) and derandomized, so
a run finds the same cases every time."""
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.integration.conftest import auth, denial, register

pytestmark = pytest.mark.integration
ORG = f"fuzz-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def gateway_schema(stack):
    return schemathesis.openapi.from_url(f"{stack['gateway-api'].url}/openapi.json")


@pytest.fixture(scope="session")
def signed_in(stack):
    import asyncio

    from common import kafka
    from common.settings import CommonSettings
    from tests.integration.conftest import publish

    async def seed():
        p = kafka.producer(CommonSettings(), "fuzz")
        await p.start()
        await publish(p, [denial(source_id=f"D-fuzz-{i}") for i in range(5)], ORG)
        await p.stop()

    asyncio.run(seed())
    return auth(stack, ORG)


def test_no_input_makes_the_gateway_fail(gateway_schema, stack, signed_in):
    # Driven directly (schemathesis' pytest plugin does not load under pytest 9).
    from hypothesis import given

    base = stack["gateway-api"].url
    failures: list[str] = []
    operations = 0
    for result in gateway_schema.get_all_operations():
        op = result.ok()
        operations += 1

        @given(case=op.as_strategy())
        @settings(max_examples=6, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))  # the same examples every run
        def call(case):
            response = case.call(base_url=base, headers=signed_in, timeout=10)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query or ''} → "
                                f"{response.status_code}: {response.text[:300]}")

        call()
    assert operations >= 15
    assert not failures, "\n".join(failures[:10])


def test_no_input_makes_intake_fail(stack):
    """Intake's ingest endpoint takes every upstream module's events: many examples of
    each event type, with the limits its schema states (lengths, NUL, decimals, dates)."""
    from hypothesis import given

    register(ORG)
    base = stack["intake-api"].url
    credential = stack.service_headers()  # intake's API is internal
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: list[str] = []
    statuses: dict[int, int] = {}
    operations = 0
    for result in schema.get_all_operations():
        op = result.ok()
        operations += 1
        examples = 150 if op.path == "/api/v1/events" else 10

        @given(case=op.as_strategy())
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def call(case):
            if isinstance(case.body, dict) and "org_id" in case.body:
                case.body["org_id"] = ORG  # a known org, so events go past the org check
            response = case.call(base_url=base, headers=credential, timeout=10)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} → "
                                f"{response.status_code}: {response.text[:300]}")

        call()
    assert operations >= 2
    assert not failures, "\n".join(failures[:10])
    assert statuses.get(202, 0) >= 20, statuses  # many cases went all the way in
