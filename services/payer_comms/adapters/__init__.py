"""Outside systems payer_comms talks to, each behind a small Protocol: SMS (Twilio) and
e-mail (SMTP). Tests use the real clients against local servers."""
from __future__ import annotations

from typing import Protocol


class PermanentFailure(Exception):
    """The provider refused the message for good (a bad number, a refused address): no retry."""


class SmsSender(Protocol):
    async def send_sms(self, *, to: str, body: str, status_callback: str | None = None) -> str:
        """Send one SMS; return the provider's message id. Raise to have it retried."""
        ...


class Dialer(Protocol):
    async def bridge_call(self, *, staff: str, payer: str, status_callback: str,
                          record: bool = False) -> str:
        """Ring ``staff``, then bridge to ``payer``; the call's id. Raise to retry."""
        ...


class EmailSender(Protocol):
    async def send_email(self, *, to: str, subject: str, body: str,
                         in_reply_to: str | None = None) -> str:
        """Send one e-mail; return its Message-ID. Raise to have it retried."""
        ...
