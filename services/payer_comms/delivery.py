"""The delivery loop: claim due deliveries (SKIP LOCKED, so replicas share the work),
try each once, record the attempt, and either settle it (AlertSent through the outbox) or
schedule the next try with exponential backoff. The consumer never waits on a provider."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from common import logs, timers
from common.events.generated import AlertSent
from common.runtime import Context
from services.payer_comms import store
from services.payer_comms.adapters import EmailSender, PermanentFailure, SmsSender

log = logs.get(__name__)


@dataclass(frozen=True)
class Retry:
    base_s: float = 2.0
    max_s: float = 300.0
    max_attempts: int = 6

    def delay(self, attempts: int) -> timedelta:
        """Wait before attempt ``attempts + 1``: base, 2×base, 4×base … capped."""
        return timedelta(seconds=min(self.base_s * 2 ** (attempts - 1), self.max_s))


@dataclass
class Senders:
    sms: SmsSender
    email: EmailSender


async def _attempt(senders: Senders, row, timeout: float) -> str:
    if row.channel == "sms":
        return await asyncio.wait_for(senders.sms.send_sms(to=row.address, body=row.body), timeout)
    return await asyncio.wait_for(
        senders.email.send_email(to=row.address, subject=row.subject, body=row.body), timeout)


async def deliver_due(ctx: Context, senders: Senders, retry: Retry, *, batch: int,
                      timeout: float) -> int:
    """One round: attempt every due delivery (up to ``batch``); return how many were tried."""
    async with ctx.unit_of_work() as uow:
        session = uow.session
        now = datetime.now(UTC)
        rows = await store.claim_due(session, now, batch)
        for row in rows:
            t0 = time.perf_counter()
            ok, error, sid = False, None, None
            try:
                sid = await _attempt(senders, row, timeout)
                ok = True
            except PermanentFailure as exc:
                error, permanent = str(exc), True
            except Exception as exc:  # a provider error or time-out: worth another try
                error, permanent = f"{type(exc).__name__}: {exc}"[:500], False
            attempts = row.attempts + 1
            at = datetime.now(UTC)
            if ok:
                status, nxt = "sent", None
            elif permanent or attempts >= retry.max_attempts:
                status, nxt = "failed", None
            else:
                status, nxt = "pending", at + retry.delay(attempts)
            await store.record_attempt(session, delivery_id=row.id, at=at, ok=ok, error=error,
                                       provider_message_id=sid,
                                       elapsed_ms=int((time.perf_counter() - t0) * 1000),
                                       status=status, attempts=attempts, next_attempt_at=nxt)
            log.info("alert_attempt", alert_id=str(row.alert_id), delivery_id=row.id,
                     channel=row.channel, attempt=attempts, outcome=status)
            if status != "pending":
                await uow.emit(AlertSent(alert_id=row.alert_id, task_id=row.task_id,
                                         user_id=row.user_id, channel=row.channel, outcome=status,
                                         attempts=attempts, provider_message_id=sid),
                               org_id=row.org_id, key=str(row.task_id or row.org_id))
        await uow.finish()
        return len(rows)


async def run(ctx: Context, senders: Senders, retry: Retry, *, poll_s: float, batch: int,
              timeout: float) -> None:
    """Deliver until cancelled; a failing database only delays delivery."""
    await timers.every(poll_s, lambda: deliver_due(ctx, senders, retry, batch=batch, timeout=timeout),
                       name="alert_delivery_round", again=lambda n: n >= batch)
