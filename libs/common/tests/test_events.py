"""The envelope and the Avro codec, without I/O."""
import datetime as dt
import uuid
from decimal import Decimal

import pytest

from common import events
from common.events import MAGIC, DecodeError
from common.events.generated import DenialPosted, TaskRouted

DAY = dt.date(2026, 11, 20)  # the day the fixed examples are received


def denial(*, on: dt.date = DAY, **kw) -> DenialPosted:
    """A denial as received on ``on``: served 50 days before and denied 19 days before, so
    under the default policies it is Low (younger than 60 days, $2,500, no filing limit)
    and routes by its payer and amount (younger than 90 days). Tests on live services pass
    the day they publish; nothing then depends on the calendar."""
    base = dict(source_id="D-1", claim_id="C-1", payer_id="aetna", payer_name="Aetna",
                payer_class="commercial", patient_id="P-1", amount=Decimal("2500.00"),
                service_date=on - dt.timedelta(days=50), denied_on=on - dt.timedelta(days=19),
                carc_codes=["CO-197"])
    return DenialPosted(**{**base, **kw})


def test_round_trip_keeps_every_field():
    env = events.envelope(denial(rarc_codes=["N386"], patient_name="DOE, Jane"),
                          org_id="acme", producer="test")
    data = events.encode(env)
    assert data[:2] == MAGIC
    assert data[2:10] == events.REGISTRY.by_name["DenialPosted"].fingerprint
    back = events.decode(data)
    assert back == env
    assert back.payload.amount == Decimal("2500.00")
    assert back.occurred_at.tzinfo is not None


def test_causation_and_correlation_follow_the_cause():
    cause = events.envelope(denial(), org_id="acme", producer="rcm")
    child = events.envelope(TaskRouted(task_id=uuid.uuid4(), queue="default", reason="r"),
                            org_id="acme", producer="routing", cause=cause)
    assert child.correlation_id == cause.correlation_id
    assert child.causation_id == cause.event_id
    headers = dict(child.headers)
    assert headers["event_type"] == b"TaskRouted"
    assert headers["correlation_id"] == str(cause.correlation_id).encode()


def test_fingerprints_differ_per_event_type():
    fps = [et.fingerprint for et in events.REGISTRY.by_name.values()]
    assert len(set(fps)) == len(fps)


@pytest.mark.parametrize("data, reason", [
    (b"", "too short"),
    (b"{\"json\": \"not avro\"}", "not Avro single-object encoding"),
    (MAGIC + b"\x00" * 8 + b"\x02", "unknown writer schema fingerprint"),
])
def test_undecodable_bytes_say_why(data, reason):
    with pytest.raises(DecodeError, match=reason):
        events.decode(data)


def test_truncated_body_names_the_event_type():
    data = events.encode(events.envelope(denial(), org_id="acme", producer="t"))
    with pytest.raises(DecodeError, match="DenialPosted: body does not match"):
        events.decode(data[:30])


def test_record_that_breaks_the_model_names_the_field():
    import io

    from fastavro import schemaless_writer

    et = events.REGISTRY.by_name["DenialPosted"]
    env = events.envelope(denial(), org_id="acme", producer="t")
    record = {**env.model_dump(), "payload": denial().model_dump(), "org_id": "x" * 100}
    buf = io.BytesIO(MAGIC + et.fingerprint)
    buf.seek(10)
    schemaless_writer(buf, et.schema, record)  # valid Avro, but org_id is too long for us
    with pytest.raises(DecodeError, match="org_id"):
        events.decode(buf.getvalue())


def test_unknown_model_is_refused():
    from pydantic import BaseModel

    class NotAnEvent(BaseModel):
        x: int

    with pytest.raises(KeyError, match="not an event type"):
        events.envelope(NotAnEvent(x=1), org_id="a", producer="t")
