"""The event envelope and its Avro codec (single-object encoding, no registry needed).

Each payload schema in ``schemas/avro/<aggregate>/<Name>.avsc`` is composed into the
envelope of ``schemas/avro/envelope.avsc``; the composed schema's CRC-64-AVRO fingerprint
goes before the body, so a consumer finds the writer's schema without a registry.
"""
from __future__ import annotations

import copy
import io
import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.schema import fingerprint, to_parsing_canonical_form
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common import limits, topics
from common.codegen import SCHEMA_DIR, payload_schema_files
from common.events import generated

# Every generated model carries the bounds its schema declares (common.limits), wherever
# it is built: an HTTP body, a decoded event, a handler's new event.
limits.bind(generated, payload_schema_files())

MAGIC = b"\xc3\x01"  # Avro single-object encoding marker
P = TypeVar("P", bound=BaseModel)


class DecodeError(Exception):
    """The bytes are not an event this service can read; the reason is for a person (it
    names fields and rules, never the values, so it may be logged and dead-lettered)."""

    safe_message = True


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    """A random (version 4) UUID for an event. From the process's random generator rather
    than ``uuid4``'s ``os.urandom``: a system call per event was a tenth of a busy
    consumer's time here. Event ids need to be unique, not unguessable; the generator is
    seeded from the OS and reseeded in forked children."""
    return uuid.UUID(int=random.getrandbits(128), version=4)


class Envelope(BaseModel, Generic[P]):
    """One event on the bus: who, when, why (correlation/causation) and the payload."""

    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID = Field(default_factory=new_id)
    event_type: limits.text(64)
    org_id: limits.text(64, min_length=1)
    occurred_at: limits.Timestamp = Field(default_factory=utcnow)
    correlation_id: uuid.UUID = Field(default_factory=new_id)
    causation_id: uuid.UUID | None = None
    producer: limits.text(64)
    schema_version: limits.Int32 = 1
    payload: P

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        """Kafka headers: enough to route, trace or dead-letter without decoding."""
        return [
            ("event_type", self.event_type.encode()),
            ("event_id", str(self.event_id).encode()),
            ("org_id", self.org_id.encode()),
            ("correlation_id", str(self.correlation_id).encode()),
            ("content-type", b"application/vnd.wq.avro-single-object"),
        ]


@dataclass(frozen=True)
class EventType:
    name: str
    model: type[BaseModel]
    schema: dict  # parsed, composed with the envelope
    fingerprint: bytes
    version: int
    topic: topics.Topic | None
    envelope: type[Envelope]  # Envelope[model], built once


def compose(envelope: dict, payload: dict) -> dict:
    """The envelope schema with its PAYLOAD placeholder replaced by ``payload``."""
    out = copy.deepcopy(envelope)
    out["name"] = f"{payload['name']}Event"
    out["namespace"] = payload.get("namespace", out.get("namespace"))
    for f in out["fields"]:
        if f["type"] == "PAYLOAD":
            f["type"] = payload
    return out


class Registry:
    """Every event type known to this build, by name and by writer fingerprint."""

    def __init__(self, root: Path = SCHEMA_DIR) -> None:
        envelope = json.loads((root / "envelope.avsc").read_text())
        self.by_name: dict[str, EventType] = {}
        self.by_fingerprint: dict[bytes, EventType] = {}
        for path in payload_schema_files(root):
            raw = json.loads(path.read_text())
            name = raw["name"]
            model = getattr(generated, name, None)
            if model is None:
                raise RuntimeError(
                    f"{path}: no generated model {name}; run `python -m common.codegen`"
                )
            schema = compose(envelope, raw)
            canonical = to_parsing_canonical_form(parse_schema(schema, _write_hint=False))
            fp = bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
            # Parsed with fastavro's marker, so that its reader and writer do not parse the
            # schema again on every event (three times faster).
            et = EventType(name, model, parse_schema(schema), fp, int(raw.get("version", 1)),
                           topics.EVENT_TOPICS.get(name), Envelope[model])
            self.by_name[name] = et
            self.by_fingerprint[fp] = et
        self.by_model = {et.model: et for et in self.by_name.values()}

    def type_of(self, payload: BaseModel | type[BaseModel]) -> EventType:
        model = payload if isinstance(payload, type) else type(payload)
        try:
            return self.by_model[model]
        except KeyError:
            raise KeyError(f"{model.__name__} is not an event type in schemas/avro") from None

    def envelope(self, payload: BaseModel, *, org_id: str, producer: str,
                 cause: Envelope | None = None, **kw: Any) -> Envelope:
        """Wrap a payload, carrying correlation from the event that caused it."""
        et = self.type_of(payload)
        if cause is not None:
            kw.setdefault("correlation_id", cause.correlation_id)
            kw.setdefault("causation_id", cause.event_id)
        return et.envelope(event_type=et.name, org_id=org_id, producer=producer,
                           schema_version=et.version, payload=payload, **kw)

    def encode(self, env: Envelope) -> bytes:
        et = self.by_name[env.event_type]
        # Envelopes are built as Envelope[<payload type>] (REGISTRY.envelope, decode), so
        # the payload serializes by its own type.
        record = env.model_dump(mode="python")
        buf = io.BytesIO()
        buf.write(MAGIC)
        buf.write(et.fingerprint)
        schemaless_writer(buf, et.schema, record)
        return buf.getvalue()

    def decode(self, data: bytes | None) -> Envelope:
        """Bytes from the bus → a validated envelope, or DecodeError saying why not."""
        if not data or len(data) < 10:
            raise DecodeError(f"message of {len(data or b'')} bytes is too short to be an event")
        if data[:2] != MAGIC:
            raise DecodeError(
                f"not Avro single-object encoding (starts with {data[:2].hex()}, expected c301)"
            )
        et = self.by_fingerprint.get(data[2:10])
        if et is None:
            raise DecodeError(
                f"unknown writer schema fingerprint {data[2:10].hex()}: "
                "the producer uses a schema this build does not know"
            )
        try:
            record = schemaless_reader(io.BytesIO(data[10:]), et.schema, None)
        except Exception as exc:  # fastavro raises many types on truncated/corrupt bodies
            raise DecodeError(f"{et.name}: body does not match its schema "
                              f"({type(exc).__name__})") from exc
        try:
            return et.envelope.model_validate(record)
        except ValidationError as exc:
            raise DecodeError(f"{et.name}: {describe(exc)}") from exc


def describe(exc: ValidationError) -> str:
    """A validation error as one readable line naming each bad field."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


REGISTRY = Registry()
encode = REGISTRY.encode
decode = REGISTRY.decode
envelope = REGISTRY.envelope
