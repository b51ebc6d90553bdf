"""E-mail over SMTP (stdlib smtplib in a worker thread), optionally STARTTLS and login."""
from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from services.payer_comms.adapters import PermanentFailure


class SmtpEmail:
    def __init__(self, *, host: str, port: int, sender: str, username: str | None = None,
                 password: str | None = None, starttls: bool = False, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls, self.timeout = username, password, starttls, timeout

    def _send(self, to: str, subject: str, body: str, in_reply_to: str | None = None) -> str:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, to, subject
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        if in_reply_to:
            msg["In-Reply-To"] = msg["References"] = in_reply_to
        msg.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure("smtp refused the recipient") from exc
        return msg["Message-ID"]

    async def send_email(self, *, to: str, subject: str, body: str,
                         in_reply_to: str | None = None) -> str:
        return await asyncio.to_thread(self._send, to, subject, body, in_reply_to)
