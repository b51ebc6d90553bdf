"""The contract: generated models match the schemas, and every schema still reads what
its previous committed version wrote (so a schema change cannot break a running consumer)."""
import io
import json
import subprocess
from pathlib import Path

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.read import SchemaResolutionError

from common import codegen, events
from common.events import compose

ROOT = Path(codegen.SCHEMA_DIR).parents[1]
SCHEMAS = codegen.payload_schema_files()
ENVELOPE = json.loads((codegen.SCHEMA_DIR / "envelope.avsc").read_text())


def test_generated_models_match_the_schemas():
    assert codegen.TARGET.read_text() == codegen.render(), \
        "schemas changed: run `make codegen` and commit libs/common/events/generated.py"


def _git(*args: str) -> str | None:
    r = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def previous_version(path: Path) -> dict | None:
    """The last committed version of a schema that differs from the working tree's."""
    rel = path.relative_to(ROOT).as_posix()
    current = json.loads(path.read_text())
    log = _git("log", "--format=%H", "--", rel) or ""
    for commit in log.split():
        text = _git("show", f"{commit}:{rel}")
        if text is None:
            continue
        old = json.loads(text)
        if old != current:
            return old
    return None


def sample(schema):
    """A value for every field of an Avro type (non-default, so reading it back is meaningful)."""
    if isinstance(schema, list):
        return sample(next(s for s in schema if s != "null"))
    if isinstance(schema, str):
        return {"string": "x", "int": 7, "long": 7, "boolean": True, "double": 1.5,
                "float": 1.5, "bytes": b"\x01", "null": None}[schema]
    lt = schema.get("logicalType")
    if lt == "uuid":
        return "6f1c2d4e-8a57-4c1b-9b4e-2f0d7f3e5a11"
    if lt == "decimal":
        from decimal import Decimal
        return Decimal("12.34")
    if lt == "date":
        import datetime
        return datetime.date(2026, 1, 2)
    if lt in ("timestamp-micros", "timestamp-millis"):
        import datetime
        return datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    t = schema["type"]
    if t == "record":
        return {f["name"]: sample(f["type"]) for f in schema["fields"]}
    if t == "array":
        return [sample(schema["items"])]
    if t == "map":
        return {"k": sample(schema["values"])}
    if t == "enum":
        return schema["symbols"][0]
    return sample(t)


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.stem)
def test_schema_reads_its_previous_version(path):
    old = previous_version(path)
    new = json.loads(path.read_text())
    writer = parse_schema(compose(ENVELOPE, old or new))
    reader = parse_schema(compose(ENVELOPE, new))
    record = sample(compose(ENVELOPE, old or new))
    buf = io.BytesIO()
    schemaless_writer(buf, writer, record)
    buf.seek(0)
    read = schemaless_reader(buf, writer, reader)  # raises when not backward compatible
    for f in new["fields"]:
        assert f["name"] in read["payload"]


def test_compatibility_check_catches_a_breaking_change():
    """The check above would fail a new required field without a default."""
    old = json.loads(SCHEMAS[0].read_text())
    new = json.loads(json.dumps(old))
    new["fields"].append({"name": "brand_new_required", "type": "string"})
    buf = io.BytesIO()
    writer = parse_schema(compose(ENVELOPE, old))
    schemaless_writer(buf, writer, sample(compose(ENVELOPE, old)))
    buf.seek(0)
    with pytest.raises(SchemaResolutionError):
        schemaless_reader(buf, writer, parse_schema(compose(ENVELOPE, new)))


def test_every_event_type_has_a_topic():
    missing = [n for n, et in events.REGISTRY.by_name.items() if et.topic is None]
    assert missing == [], f"add these to common.topics.EVENT_TOPICS: {missing}"
