"""The gateway's business errors: raised by the business layer, translated once by each
surface (REST: ``rest/errors.py``, FHIR: ``fhir/http.py``, web: ``web/refusals.py``).

``status`` is the HTTP status the REST API and the web pages answer with; FHIR keeps its
own table (an OperationOutcome code per error)."""
from __future__ import annotations


class GatewayError(Exception):
    """A request the business rules refuse; the message is what the person reads."""

    status = 400


class NotFound(GatewayError):
    """Not there, or not the caller's org's (the two answers are one). ``what`` says which
    kind of thing, e.g. "task"."""

    status = 404

    def __init__(self, message: str, *, what: str = "") -> None:
        super().__init__(message)
        self.what = what


class Refused(GatewayError):
    """A status move the task's state machine does not allow: its current state and the
    states it may move to."""

    status = 409

    def __init__(self, message: str, *, current: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.current, self.allowed = current, allowed


class Stale(GatewayError):
    """The caller loaded an older version than the one stored (``current``)."""

    status = 412

    def __init__(self, current: int) -> None:
        self.current = current
        super().__init__(f"the task changed since you loaded it (now version {current}); "
                         "reload it and try again")


class Forbidden(GatewayError):
    status = 403


class Unauthorized(GatewayError):
    """Not signed in (``challenge``: answer with ``WWW-Authenticate: Bearer``)."""

    status = 401

    def __init__(self, message: str, *, challenge: bool = True) -> None:
        super().__init__(message)
        self.challenge = challenge


class Invalid(GatewayError, ValueError):
    """Well-formed but not acceptable; the message starts with the field it is about
    (``owner_id: no active user u-9 in your org``)."""

    status = 422


class Conflict(GatewayError):
    """Clashes with what is stored (a name or an address taken, a decision made before)."""

    status = 409


class Unavailable(GatewayError):
    """A service this request needs did not answer."""

    status = 503


class TooManyAttempts(GatewayError):
    """Too many failed sign-ins: try again after ``retry_after_s``."""

    status = 429

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = max(1, retry_after_s)
        minutes = -(-self.retry_after_s // 60)
        super().__init__(f"too many failed sign-ins: try again in {minutes} minute"
                         f"{'s' if minutes != 1 else ''}")
