"""payer_comms's handlers: learn staff contact details; take alert requests (recorded with
one pending delivery per person and channel; the delivery loop sends them)."""
from __future__ import annotations

from datetime import UTC, datetime

from common.events import Envelope
from common.events.generated import AlertRequested, AlertSent, UserUpserted
from common.uow import UnitOfWork
from services.payer_comms import store

CHANNELS = ("sms", "email")


async def user_upserted(batch: list[Envelope[UserUpserted]], uow: UnitOfWork) -> None:
    """Remember each person's e-mail and phone (from the gateway's directory)."""
    latest = {(e.org_id, e.payload.user_id): e.payload for e in batch}
    await store.upsert_contacts(uow.session, [
        {"org_id": org, "user_id": uid, "email": p.email, "phone": p.phone, "active": p.active}
        for (org, uid), p in latest.items()])


async def alert_requested(batch: list[Envelope[AlertRequested]], uow: UnitOfWork) -> None:
    """Record each new alert and its deliveries; the same alert id twice is delivered once.
    Suppressed alerts (a maintenance window) and people with no address are settled at once."""
    now = datetime.now(UTC)
    fresh = await store.add_alerts(uow.session, [
        {"id": e.payload.alert_id, "org_id": e.org_id, "kind": e.payload.kind,
         "task_id": e.payload.task_id, "level": e.payload.level, "subject": e.payload.subject,
         "body": e.payload.body, "recipients": list(e.payload.recipient_user_ids),
         "suppressed_by": e.payload.suppressed_by, "event_id": e.event_id} for e in batch])
    for e in batch:
        p = e.payload
        if p.alert_id not in fresh:
            continue
        fresh.discard(p.alert_id)
        people = await store.contacts(uow.session, e.org_id, list(p.recipient_user_ids))
        rows = []
        for uid in dict.fromkeys(p.recipient_user_ids):
            c = people.get(uid)
            for channel in (ch for ch in CHANNELS if ch in p.channels):
                address = None if c is None or not c.active else (c.phone if channel == "sms" else c.email)
                status = "suppressed" if p.suppressed_by else ("pending" if address else "no_address")
                rows.append({"alert_id": p.alert_id, "org_id": e.org_id, "user_id": uid,
                             "channel": channel, "address": address, "status": status,
                             "next_attempt_at": now if status == "pending" else None,
                             "done_at": None if status == "pending" else now})
                if status != "pending":
                    await uow.emit(AlertSent(alert_id=p.alert_id, task_id=p.task_id, user_id=uid,
                                             channel=channel, outcome=status, attempts=0),
                                   cause=e, key=str(p.task_id or e.org_id))
        await store.add_deliveries(uow.session, rows)


HANDLERS = {AlertRequested: alert_requested}
DIRECTORY_HANDLERS = {UserUpserted: user_upserted}
