"""Generate pydantic models from ``schemas/avro/**/*.avsc`` (the contract) into generated.py.

Run ``python -m common.codegen`` after changing a schema; a test regenerates and diffs.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from dataclasses_avroschema import ModelGenerator, ModelType

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas" / "avro"
TARGET = Path(__file__).parent / "events" / "generated.py"
HEADER = '"""Generated from schemas/avro by `python -m common.codegen`. Do not edit."""\n'


def payload_schema_files(root: Path = SCHEMA_DIR) -> list[Path]:
    """Every payload schema (all .avsc below an aggregate folder), in a stable order."""
    return sorted(p for p in root.glob("*/*.avsc"))


# Field attributes that bound values (common.limits reads them from the schemas); the
# generator would render them as deprecated pydantic ``Field`` extras, so they stay out.
LIMIT_KEYS = ("maxLength", "maxItems")


def _without_limits(schema: dict) -> dict:
    return {**schema, "fields": [{k: v for k, v in f.items() if k not in LIMIT_KEYS}
                                 for f in schema["fields"]]}


def render(root: Path = SCHEMA_DIR) -> str:
    schemas = [_without_limits(json.loads(p.read_text())) for p in payload_schema_files(root)]
    body = ModelGenerator().render_module(schemas=schemas, model_type=ModelType.PYDANTIC.value)
    return HEADER + body.rstrip() + "\n"


def main() -> int:
    TARGET.write_text(render())
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
