"""Keyset cursors: the sort keys of a page's last row, opaque to the client."""
from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime

from services.gateway.errors import Invalid
from services.gateway.queue.store import SORTS


def encode_cursor(values: list) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else str(v) for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, sort: str) -> tuple:
    """The keys a cursor carries; Invalid for one this API did not give for this sort."""
    cols, _ = SORTS[sort]
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        out = []
        for name, v in zip([*cols, "id"], raw, strict=True):
            out.append(uuid.UUID(v) if name == "id" else
                       int(v) if name == "priority_rank" else datetime.fromisoformat(v))
        return tuple(out)
    except Exception:
        raise Invalid("cursor: not a cursor this API returned for this sort") from None
