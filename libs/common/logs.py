"""JSON logs through structlog; ids are bound per event, never patient data.

An exception's text may carry what caused it: SQL parameters, a payload field, a patient's
name. So exceptions are logged as their class, the ids the database names (SQLSTATE,
constraint, column) and where they were raised, never their message (``error_text``,
enforced by a processor on every log line). Client libraries that retry by themselves
(aiokafka while the broker is away) say the same thing at most once per interval.
"""
from __future__ import annotations

import logging
import sys
import time
import traceback

import structlog

bind = structlog.contextvars.bind_contextvars
clear = structlog.contextvars.clear_contextvars
bound = structlog.contextvars.bound_contextvars


REPEAT_INTERVAL_S = 30.0


def error_text(exc: BaseException) -> str:
    """What may be said of an exception in a log, a metric or a dead-letter header: its
    class and, for a database error, the SQLSTATE and the names the server gives (never
    the message, which can quote values). Exceptions whose text the project writes from
    field names alone say ``safe_message = True``; a pydantic error lists fields and rules."""
    name = type(exc).__name__
    if getattr(exc, "safe_message", False):
        return f"{name}: {exc}"[:1000]
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        fields = "; ".join(f"{'.'.join(str(x) for x in e['loc']) or '(root)'}: {e['type']}"
                           for e in exc.errors()[:10])
        return f"{name}: {fields}"
    orig = getattr(exc, "orig", None)
    diag = getattr(orig, "diag", None)
    if orig is not None:
        name = f"{name}({type(orig).__name__})"
    if diag is not None:
        parts = [f"{k}={v}" for k, v in (
            ("sqlstate", getattr(orig, "sqlstate", None)), ("table", diag.table_name),
            ("column", diag.column_name), ("constraint", diag.constraint_name)) if v]
        if parts:
            return f"{name}: {' '.join(parts)}"
    return name


def where(exc: BaseException, limit: int = 6) -> str:
    """The innermost frames of an exception (file:line function), without its text."""
    frames = traceback.extract_tb(exc.__traceback__)[-limit:]
    return " < ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}"
                      for f in reversed(frames))


def _scrub(logger, method: str, event_dict: dict) -> dict:
    """Render exceptions safely: values that are exceptions, and exc_info."""
    for key, value in list(event_dict.items()):
        if isinstance(value, BaseException):
            event_dict[key] = error_text(value)
    info = event_dict.pop("exc_info", None)
    if info:
        if info is True:
            info = sys.exc_info()
        exc = info if isinstance(info, BaseException) else info[1] if isinstance(info, tuple) else None
        if exc is not None:
            chain, seen = [], exc
            while seen is not None and len(chain) < 5:
                chain.append(error_text(seen))
                seen = seen.__cause__ or seen.__context__
            event_dict["exception"] = " <- ".join(chain)
            event_dict["where"] = where(exc)
    event_dict.pop("exception_text", None)
    return event_dict


class Throttle(logging.Filter):
    """Let the same message of a logger through at most once per interval, and say how
    many were held back (aiokafka logs each reconnect attempt while a broker is away)."""

    def __init__(self, interval_s: float = REPEAT_INTERVAL_S, prefixes=("aiokafka", "kafka")):
        super().__init__()
        self.interval_s = interval_s
        self.prefixes = prefixes
        self._last: dict[tuple, list] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self.prefixes):
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = time.monotonic()
        seen = self._last.get(key)
        if seen and now - seen[0] < self.interval_s:
            seen[1] += 1
            return False
        if seen and seen[1]:
            record.msg = f"{record.msg} (and {seen[1]} more like it in {self.interval_s:.0f} s)"
        self._last[key] = [now, 0]
        if len(self._last) > 1000:  # messages with ids in their template
            self._last.clear()
        return True


_every: dict[str, float] = {}


def every(key: str, interval_s: float = REPEAT_INTERVAL_S) -> bool:
    """True at most once per interval for a key: for a loop that retries a failing peer."""
    now = time.monotonic()
    if now - _every.get(key, -interval_s) >= interval_s:
        _every[key] = now
        return True
    return False


def configure(service: str, *, level: str = "INFO", json: bool = True) -> None:
    """Route stdlib and structlog output through one JSON renderer on stdout."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)  # one JSON line per event, even in a pipe
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _scrub,
    ]
    renderer = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(Throttle())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # twilio.http_client logs every request's URL and headers (ids, numbers in the path).
    for noisy in ("aiokafka", "kafka", "uvicorn.access", "twilio.http_client"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    structlog.contextvars.bind_contextvars(service=service)


def get(name: str | None = None):
    return structlog.get_logger(name)
