"""Bounds on every value an event can carry, declared once and applied at every edge.

What intake accepts, every downstream service must be able to store and the broker must
be able to carry, so the bounds live with the contract: a schema field may say
``"maxLength"`` (a string, or each string of an array or map) and ``"maxItems"`` (an
array's or map's entries); everything else gets the defaults below. Numbers stay within
what Avro and PostgreSQL hold (decimals within the schema's precision and scale, ints
within 32 bits, doubles finite), text holds no NUL (PostgreSQL refuses it), dates and
timestamps lie between 1900 and 2199.

``bind(module, schema_files)`` replaces each generated model in ``module`` by a subclass
of the same name with these bounds, so every model built anywhere (an HTTP body, a decoded
event, a handler's new event) is checked the same way, and an OpenAPI schema shows them.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, Optional

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, create_model

TEXT_MAX = 200  # ids, names, codes, statuses: what a field says unless its schema says more
ITEMS_MAX = 50
KEY_MAX = 64  # a map's keys
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)
NO_NUL = r"^[^\x00]*$"


def text(max_length: int = TEXT_MAX, *, min_length: int = 0) -> Any:
    """A string type: at most ``max_length`` characters, no NUL."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length,
                                            pattern=NO_NUL)]


def _date_in_range(v: dt.date) -> dt.date:
    if not EARLIEST <= v <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return v


def _timestamp_in_range(v: dt.datetime) -> dt.datetime:
    if v.tzinfo is None:  # the wire is UTC (ARCHITECTURE: time)
        v = v.replace(tzinfo=dt.UTC)
    if not EARLIEST <= v.astimezone(dt.UTC).date() <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return v


Date = Annotated[dt.date, AfterValidator(_date_in_range)]
Timestamp = Annotated[dt.datetime, AfterValidator(_timestamp_in_range)]
Int32 = Annotated[int, Field(ge=INT32[0], le=INT32[1])]
Int64 = Annotated[int, Field(ge=INT64[0], le=INT64[1])]
Double = Annotated[float, Field(allow_inf_nan=False)]


def decimal(precision: int, scale: int) -> Any:
    return Annotated[Decimal, Field(max_digits=precision, decimal_places=scale,
                                    allow_inf_nan=False)]


def _annotation(avro: Any, field: dict, nested: dict[str, type[BaseModel]]) -> Any:
    """The bounded Python type of an Avro type (``field`` holds the field's own bounds)."""
    if isinstance(avro, list):
        rest = [t for t in avro if t != "null"]
        inner = _annotation(rest[0] if len(rest) == 1 else rest, field, nested)
        if inner is None:
            return None
        return Optional[inner] if "null" in avro else inner  # noqa: UP045 (a runtime type)
    if isinstance(avro, dict):
        kind, logical = avro.get("type"), avro.get("logicalType")
        if logical == "uuid" or kind == "fixed":
            return None  # keep the generated type
        if logical == "decimal":
            return decimal(avro["precision"], avro.get("scale", 0))
        if logical == "date":
            return Date
        if logical in ("timestamp-micros", "timestamp-millis"):
            return Timestamp
        if kind == "array":
            item = _annotation(avro["items"], field, nested)
            return Annotated[list[item], Field(max_length=field.get("maxItems", ITEMS_MAX))]
        if kind == "map":
            value = _annotation(avro["values"], field, nested)
            return Annotated[dict[text(KEY_MAX), value],
                             Field(max_length=field.get("maxItems", ITEMS_MAX))]
        if kind == "record":
            return nested[avro["name"]]
        return _annotation(kind, field, nested)
    if avro in nested:  # a named record defined earlier
        return nested[avro]
    return {
        "string": text(field.get("maxLength", TEXT_MAX)),
        "int": Int32, "long": Int64, "double": Double, "float": Double,
    }.get(avro)


def bounded(model: type[BaseModel], schema: dict, module: ModuleType,
            nested: dict[str, type[BaseModel]]) -> type[BaseModel]:
    """A subclass of ``model`` (same name) whose fields carry the bounds of ``schema``."""
    overrides: dict[str, Any] = {}
    for f in schema["fields"]:
        for sub in _records(f["type"]):  # nested records first, so fields can name them
            if sub["name"] not in nested:
                base = getattr(module, sub["name"])
                nested[sub["name"]] = bounded(base, sub, module, nested)
        ann = _annotation(f["type"], f, nested)
        if ann is None:
            continue
        info = model.model_fields[f["name"]]
        kw: dict[str, Any] = {}
        if info.default_factory is not None:
            kw["default_factory"] = info.default_factory
        elif not info.is_required():
            kw["default"] = info.default
        if info.description:
            kw["description"] = info.description
        overrides[f["name"]] = (ann, Field(**kw))
    out = create_model(model.__name__, __base__=model, __module__=model.__module__,
                       __doc__=model.__doc__, **overrides)
    out.__max_lengths__ = {f["name"]: f.get("maxLength", TEXT_MAX) for f in schema["fields"]
                           if _holds_text(f["type"])}
    return out


def _holds_text(avro: Any) -> bool:
    if isinstance(avro, list):
        return any(_holds_text(t) for t in avro)
    if isinstance(avro, dict):
        return avro.get("logicalType") is None and (
            avro.get("type") == "string" or _holds_text(avro.get("items") or avro.get("values")))
    return avro == "string"


def _records(avro: Any):
    if isinstance(avro, list):
        for t in avro:
            yield from _records(t)
    elif isinstance(avro, dict):
        if avro.get("type") == "record":
            yield avro
        for key in ("items", "values"):
            if key in avro:
                yield from _records(avro[key])


def bind(module: ModuleType, schema_files: list[Path]) -> None:
    """Replace every generated model in ``module`` by its bounded subclass (once)."""
    if getattr(module, "__bounded__", False):
        return
    nested: dict[str, type[BaseModel]] = {}
    for path in schema_files:
        schema = json.loads(path.read_text())
        model = getattr(module, schema["name"], None)
        if model is not None:
            setattr(module, schema["name"], bounded(model, schema, module, nested))
    for name, model in nested.items():
        setattr(module, name, model)
    module.__bounded__ = True


def max_length(model: type[BaseModel], field: str) -> int:
    """The longest string a model's field takes (for code that composes one, e.g. a title)."""
    try:
        return model.__max_lengths__[field]
    except (AttributeError, KeyError):
        raise KeyError(f"{model.__name__}.{field} has no length bound") from None


def clip(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters, with an ellipsis when cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def check_document(doc: Any, *, where: str, max_text: int = TEXT_MAX, max_items: int = 200,
                   max_depth: int = 6) -> None:
    """Refuse a free-form JSON document (a rule, a policy) with text over ``max_text``
    characters or with a NUL, a list or object over ``max_items`` entries, or nesting
    deeper than ``max_depth``: ValueError naming the place."""
    stack = [(doc, where, 0)]
    while stack:
        value, at, depth = stack.pop()
        if depth > max_depth:
            raise ValueError(f"{at}: nested deeper than {max_depth} levels")
        if isinstance(value, str):
            if len(value) > max_text:
                raise ValueError(f"{at}: at most {max_text} characters (got {len(value)})")
            if "\x00" in value:
                raise ValueError(f"{at}: must not contain a NUL character")
        elif isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{at}: must be a finite number")
        elif isinstance(value, dict | list):
            if len(value) > max_items:
                raise ValueError(f"{at}: at most {max_items} entries (got {len(value)})")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for k, v in items:
                if isinstance(k, str):
                    stack.append((k, f"{at}: a key", depth + 1))
                stack.append((v, f"{at}.{k}", depth + 1))
