"""The sender loop: claim pending outbound interactions (SKIP LOCKED, so replicas share
the work), place the call or send the message once, and record what the provider said
(the call's or message's sid; its later states arrive as signed status callbacks). A
provider error is retried with backoff; a refusal (a bad number, a refused address) fails
the interaction at once. The attempt is recorded in the transaction that claimed it, so a
worker killed between the provider's answer and the commit places that call again (at
least once; the interaction itself is never lost or doubled)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from common import logs
from common.runtime import Context
from services.payer_comms.adapters import Dialer, EmailSender, PermanentFailure, SmsSender
from services.payer_comms.delivery import Retry
from services.payer_comms.interactions import store
from services.payer_comms.interactions.handlers import announce

log = logs.get(__name__)


@dataclass
class Outbound:
    dialer: Dialer
    sms: SmsSender
    email: EmailSender
    public_url: str          # where Twilio posts status callbacks (payer_comms's API)
    record_calls: bool = False


async def _place(out: Outbound, row, timeout: float) -> tuple[str, str]:
    """(provider id, status) of one call or message handed to its provider."""
    if row.channel == "voice":
        sid = await asyncio.wait_for(out.dialer.bridge_call(
            staff=row.staff_number, payer=row.counterpart, record=out.record_calls,
            status_callback=f"{out.public_url}/twilio/voice/status"), timeout)
        return sid, "queued"
    if row.channel == "sms":
        sid = await asyncio.wait_for(out.sms.send_sms(
            to=row.counterpart, body=row.body,
            status_callback=f"{out.public_url}/twilio/sms/status"), timeout)
        return sid, "queued"
    sid = await asyncio.wait_for(out.email.send_email(
        to=row.counterpart, subject=row.subject or "", body=row.body or ""), timeout)
    return sid, "sent"


async def send_due(ctx: Context, out: Outbound, retry: Retry, *, batch: int, timeout: float) -> int:
    """One round: place or send every due pending interaction (up to ``batch``); how many
    were tried."""
    async with ctx.unit_of_work() as uow:
        rows = await store.claim_pending(uow.session, datetime.now(UTC), batch)
        for row in rows:
            attempts = row.attempts + 1
            try:
                sid, status = await _place(out, row, timeout)
                changes = {"provider_sid": sid, "status": status, "attempts": attempts,
                           "next_attempt_at": None}
                if row.channel == "email":
                    changes |= {"thread_id": sid, "ended_at": datetime.now(UTC)}
            except PermanentFailure as exc:
                changes = {"status": "failed", "refusal": str(exc)[:300], "attempts": attempts,
                           "next_attempt_at": None, "ended_at": datetime.now(UTC)}
            except Exception as exc:  # a provider error or time-out: worth another try
                if attempts >= retry.max_attempts:
                    changes = {"status": "failed", "attempts": attempts, "next_attempt_at": None,
                               "refusal": f"the provider failed {attempts} times "
                                          f"({type(exc).__name__})", "ended_at": datetime.now(UTC)}
                else:
                    await store.update_interaction(
                        uow.session, row.id, revise=False, attempts=attempts,
                        next_attempt_at=datetime.now(UTC) + retry.delay(attempts))
                    log.info("payer_interaction_retry", interaction_id=str(row.id),
                             attempt=attempts, error_type=type(exc).__name__)
                    continue
            new = await store.update_interaction(uow.session, row.id, **changes)
            await announce(uow, new)
            log.info("payer_interaction_sent", interaction_id=str(row.id), channel=row.channel,
                     status=new.status, attempt=attempts)
        return len(rows)


async def run(ctx: Context, out: Outbound, retry: Retry, *, poll_s: float, batch: int,
              timeout: float) -> None:
    """Send until cancelled; a failing database only delays sending."""
    while True:
        try:
            n = await send_due(ctx, out, retry, batch=batch, timeout=timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("payer_interaction_round_failed", error=exc)
            n = 0
        if n < batch:
            await asyncio.sleep(poll_s)
