"""FHIR search parameters: which this server uses and which it ignores.

Search is lenient, as FHIR's default: a parameter this server does not know is ignored and
reported (the self link shows only the parameters used, and an OperationOutcome entry
warns); with ``Prefer: handling=strict`` it is a 400. An unsupported modifier on a known
parameter (``status:not``) is always refused, as the spec requires."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from services.gateway.fhir.resources import FhirError

SEARCH_PARAMS = ("status", "owner", "patient", "code", "priority", "business-status", "due",
                 "_lastUpdated", "_sort", "_count", "_offset")


def strict_handling(prefer: list[str]) -> bool:
    """Whether the client asked for ``Prefer: handling=strict`` (among its preferences)."""
    prefs = (p.split(";")[0].replace(" ", "").lower() for h in prefer for p in h.split(","))
    return "handling=strict" in prefs


def split_params(items: list[tuple[str, str]], *, strict: bool,
                 known: tuple[str, ...] = SEARCH_PARAMS) -> tuple[list, list[str]]:
    """The search parameters this server uses, and the names of those it ignores (unknown
    ones, in lenient mode). Strict mode refuses an unknown one; a modifier on a known
    parameter is always refused (FHIR: a server SHALL reject an unsupported modifier)."""
    used, ignored = [], []
    for name, value in items:
        base, _, modifier = name.partition(":")
        if base in known:
            if modifier:
                raise FhirError(400, "not-supported",
                                f"search parameter '{name}': modifier ':{modifier}' is not supported")
            used.append((name, value))
        elif strict:
            raise FhirError(400, "not-supported",
                            f"search parameter '{name}' is not supported; use "
                            f"{', '.join(known)} (or leave out Prefer: handling=strict "
                            "to have unknown parameters ignored)")
        elif name not in ignored:
            ignored.append(name)
    return used, ignored


COMMUNICATION_SEARCH_PARAMS = ("part-of", "based-on", "sent", "_count", "_offset")
DATE_PREFIXES = ("eq", "ne", "lt", "le", "gt", "ge")
# A FHIR date or dateTime as a search value: YYYY, YYYY-MM, YYYY-MM-DD, or a time to the
# minute, second or fraction, with Z or an offset (none: UTC).
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
                   r"(Z|[+-]\d{2}:\d{2})?)?)?)?")


def date_period(raw: str) -> tuple[str, datetime, datetime]:
    """A date search value as (prefix, lo, hi): its prefix (default eq) and the period its
    precision spans, [lo, hi) (``2026-12`` is all of December, ``…T15:00:00Z`` one second)."""
    prefix, value = (raw[:2], raw[2:]) if raw[:2] in DATE_PREFIXES else ("eq", raw)
    m = _DATE.fullmatch(value.replace(" ", "+"))  # an unescaped + arrives as a space
    try:
        if m is None:
            raise ValueError(value)
        y, mo, d, hh, mi, ss, frac, tz = m.groups()
        zone = UTC if tz in (None, "Z") else datetime.strptime(tz, "%z").tzinfo
        lo = datetime(int(y), int(mo or 1), int(d or 1), int(hh or 0), int(mi or 0),
                      int(ss or 0), int((frac or "0")[:6].ljust(6, "0")), tzinfo=zone)
        if hh is None:
            if d is not None:
                hi = lo + timedelta(days=1)
            elif mo is not None:
                hi = lo.replace(year=lo.year + lo.month // 12, month=lo.month % 12 + 1)
            else:
                hi = lo.replace(year=lo.year + 1)
        else:
            step = (timedelta(microseconds=10 ** max(0, 6 - len(frac))) if frac
                    else timedelta(seconds=1) if ss else timedelta(minutes=1))
            hi = lo + step
    except (ValueError, OverflowError):
        raise FhirError(400, "invalid", f"'{raw}' is not a FHIR date or dateTime (e.g. "
                        "ge2026-12-01 or lt2026-12-07T15:00:00Z; prefixes "
                        f"{', '.join(DATE_PREFIXES)})") from None
    return prefix, lo, hi
