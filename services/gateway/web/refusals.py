"""The web app's one translation of refusals into what a page says: a form's validation
problems in words, a business error's message, and the status the page answers with."""
from __future__ import annotations

from pydantic import ValidationError

from services.gateway.errors import GatewayError, NotFound

TASK_GONE = "This task does not exist, or it is not one of your org's."


def problems(exc: ValidationError) -> str:
    """A ValidationError in words: 'minutes: Input should be greater than or equal to 1'."""
    return "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" if e["loc"] else e["msg"]
                     for e in exc.errors())


def why(exc: Exception) -> str:
    """What a page says of a refusal."""
    return problems(exc) if isinstance(exc, ValidationError) else str(exc)


def status(exc: Exception) -> int:
    """The status a page answers a refusal with (a form that does not validate: 422)."""
    return exc.status if isinstance(exc, GatewayError) else 422


def task_gone(exc: Exception) -> bool:
    """Whether the refusal is that the task is not there (or not the org's)."""
    return isinstance(exc, NotFound) and exc.what == "task"
