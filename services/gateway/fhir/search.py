"""FHIR search parameters: which this server uses and which it ignores.

Search is lenient, as FHIR's default: a parameter this server does not know is ignored and
reported (the self link shows only the parameters used, and an OperationOutcome entry
warns); with ``Prefer: handling=strict`` it is a 400. An unsupported modifier on a known
parameter (``status:not``) is always refused, as the spec requires."""
from __future__ import annotations

from services.gateway.fhir.resources import FhirError

SEARCH_PARAMS = ("status", "owner", "patient", "code", "priority", "business-status", "due",
                 "_lastUpdated", "_sort", "_count", "_offset")


def strict_handling(prefer: list[str]) -> bool:
    """Whether the client asked for ``Prefer: handling=strict`` (among its preferences)."""
    prefs = (p.split(";")[0].replace(" ", "").lower() for h in prefer for p in h.split(","))
    return "handling=strict" in prefs


def split_params(items: list[tuple[str, str]], *, strict: bool) -> tuple[list, list[str]]:
    """The search parameters this server uses, and the names of those it ignores (unknown
    ones, in lenient mode). Strict mode refuses an unknown one; a modifier on a known
    parameter is always refused (FHIR: a server SHALL reject an unsupported modifier)."""
    used, ignored = [], []
    for name, value in items:
        base, _, modifier = name.partition(":")
        if base in SEARCH_PARAMS:
            if modifier:
                raise FhirError(400, "not-supported",
                                f"search parameter '{name}': modifier ':{modifier}' is not supported")
            used.append((name, value))
        elif strict:
            raise FhirError(400, "not-supported",
                            f"search parameter '{name}' is not supported; use "
                            f"{', '.join(SEARCH_PARAMS)} (or leave out Prefer: handling=strict "
                            "to have unknown parameters ignored)")
        elif name not in ignored:
            ignored.append(name)
    return used, ignored
