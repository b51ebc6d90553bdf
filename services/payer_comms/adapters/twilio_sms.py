"""SMS and bridged calls through the official ``twilio`` SDK. ``base_url`` points the SDK's HTTP client at
another host speaking the same Messages API (a local server in tests, a regional edge or
a proxy elsewhere); unset, it talks to Twilio."""
from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from services.payer_comms.adapters import PermanentFailure


class BaseUrlHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, sending every request to ``base_url`` (same path and query)."""

    def __init__(self, base_url: str, timeout: float | None = None) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        parts = urlsplit(url)
        url = f"{self.base_url}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, params=params, data=data, headers=headers, auth=auth,
                               timeout=timeout, allow_redirects=allow_redirects)


class TwilioSms:
    def __init__(self, *, account_sid: str, auth_token: str, from_number: str,
                 base_url: str | None = None, timeout: float = 10.0) -> None:
        http = BaseUrlHttpClient(base_url, timeout) if base_url else TwilioHttpClient(timeout=timeout)
        self.client = Client(account_sid, auth_token, http_client=http)
        self.from_number = from_number

    def _call(self, fn, **kw) -> str:
        try:
            return fn(**kw).sid
        except TwilioRestException as exc:
            # 4xx (an invalid number, a blocked recipient) will not get better; 429 and 5xx may.
            if 400 <= exc.status < 500 and exc.status != 429:
                raise PermanentFailure(f"twilio refused: HTTP {exc.status} code {exc.code}") from None
            raise RuntimeError(f"twilio failed: HTTP {exc.status}") from None

    async def send_sms(self, *, to: str, body: str, status_callback: str | None = None) -> str:
        """Send one SMS (Messages API); its sid. Twilio posts its delivery states to
        ``status_callback``."""
        kw = {"status_callback": status_callback} if status_callback else {}
        return await asyncio.to_thread(self._call, self.client.messages.create, to=to,
                                       from_=self.from_number, body=body, **kw)

    async def bridge_call(self, *, staff: str, payer: str, status_callback: str,
                          record: bool = False) -> str:
        """Ring the staff member's phone (Calls API); when they answer, dial the payer from
        our number. Twilio posts the call's states (initiated, ringing, answered, completed)
        to ``status_callback``. Returns the call's sid."""
        dial = VoiceResponse()
        d = dial.dial(caller_id=self.from_number,
                      record="record-from-answer-dual" if record else "do-not-record")
        d.number(payer)
        return await asyncio.to_thread(
            self._call, self.client.calls.create, to=staff, from_=self.from_number,
            twiml=str(dial), status_callback=status_callback, status_callback_method="POST",
            status_callback_event=["initiated", "ringing", "answered", "completed"])
