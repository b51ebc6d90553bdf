"""Inbound e-mail: a real SMTP listener (aiosmtpd, on the worker's own event loop) that
turns each message to the payer-facing address into an inbound interaction, matched to
its task by the thread of our earlier e-mail (In-Reply-To / References), a WQ- reference or
a claim number in the subject or text, or left in triage. A message over the size limit is
refused in the SMTP dialogue (552, the sender keeps it); a database failure answers 451 so
the sender tries again: nothing is lost, and the same Message-ID twice is one item."""
from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from email.utils import parseaddr

from aiosmtpd.smtp import SMTP

from common import logs
from common.runtime import Context
from services.payer_comms.interactions import store
from services.payer_comms.interactions.handlers import announce
from services.payer_comms.interactions.webhooks import BODY_MAX, INBOUND, place

log = logs.get(__name__)


def _text(msg) -> tuple[str, int]:
    """The message's plain text (or its HTML, tags and all, when it has no text part) and
    how many attachments it carried (not kept)."""
    part = msg.get_body(preferencelist=("plain", "html"))
    text = part.get_content() if part is not None else ""
    attachments = sum(1 for _ in msg.iter_attachments())
    return text[:BODY_MAX], attachments


class Inbox:
    """aiosmtpd handler: one DATA → one inbound interaction."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def handle_DATA(self, server, session, envelope) -> str:
        try:
            msg = BytesParser(policy=policy.default).parsebytes(envelope.content)
            sender = parseaddr(str(msg.get("From", "")))[1].lower() or envelope.mail_from.lower()
            mid = str(msg.get("Message-ID", "")).strip() or hashlib.sha256(envelope.content).hexdigest()
            refs = f"{msg.get('In-Reply-To', '')} {msg.get('References', '')}"
            thread = [t for t in refs.split() if t.startswith("<")]
            subject = str(msg.get("Subject", ""))[:300]
            text, attachments = _text(msg)
        except Exception as exc:  # not a message we can read: refused for good
            log.warning("inbound_email_unreadable", error_type=type(exc).__name__)
            return "550 this message could not be read"
        iid = uuid.uuid5(INBOUND, mid)
        try:
            async with self.ctx.unit_of_work() as uow:
                if await store.interaction_by_id(uow.session, iid) is not None:
                    return "250 already received"
                thread_task = None
                for t in thread:
                    earlier = await store.by_thread(uow.session, t)
                    if earlier is not None and earlier.task_id is not None:
                        thread_task = earlier
                        break
                if thread_task is not None:
                    org_id, task_id, payer_id = thread_task.org_id, thread_task.task_id, thread_task.payer_id
                else:
                    org_id, task_id, payer_id = await place(
                        uow.session, sender, subject, text,
                        default_org=self.ctx.settings.inbound_default_org)
                now = datetime.now(UTC)
                await store.add_interaction(uow.session, {
                    "id": iid, "org_id": org_id, "task_id": task_id, "channel": "email",
                    "direction": "inbound", "status": "received", "payer_id": payer_id,
                    "counterpart": sender, "thread_id": mid[:998], "subject": subject,
                    "body": text + (f"\n\n[{attachments} attachment(s) not kept]" if attachments else ""),
                    "started_at": now, "ended_at": now})
                await announce(uow, await store.interaction_by_id(uow.session, iid))
        except Exception as exc:
            log.warning("inbound_email_not_stored", error=exc)
            return "451 not stored, try again later"
        log.info("payer_interaction_inbound", interaction_id=str(iid), channel="email",
                 matched=task_id is not None)
        return "250 received"


async def serve(ctx: Context) -> None:
    """Listen for inbound e-mail until cancelled (``PAYER_COMMS_INBOUND_SMTP_PORT``; 0: off)."""
    s = ctx.settings
    if not s.inbound_smtp_port:
        return
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Inbox(ctx), data_size_limit=s.inbound_email_max_bytes, enable_SMTPUTF8=True,
                     hostname="payer-comms"),
        host=s.inbound_smtp_host, port=s.inbound_smtp_port)
    log.info("inbound_smtp_listening", port=s.inbound_smtp_port)
    try:
        await asyncio.Event().wait()
    finally:
        server.close()
        await server.wait_closed()
