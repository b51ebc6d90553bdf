"""Local stand-ins for the outside systems, speaking their real protocols: an HTTP server
that answers Twilio's Messages and Calls APIs (and can be told to fail) and sends status
callbacks signed as Twilio signs them, and an SMTP server (aiosmtpd).
Used by payer_comms's tests and the integration tests; they only listen on 127.0.0.1."""
from __future__ import annotations

import base64
import json
import threading
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx
from aiosmtpd.controller import Controller
from twilio.request_validator import RequestValidator

from common.localstack import free_port


@dataclass
class Sms:
    account_sid: str
    to: str
    from_: str
    body: str
    sid: str


@dataclass
class Call:
    account_sid: str
    to: str
    from_: str
    twiml: str
    status_callback: str
    sid: str


@dataclass
class FakeTwilio:
    """POST /2010-04-01/Accounts/{sid}/Messages.json → 201 with a message resource;
    ``fail_next`` requests get HTTP 500 first (as Twilio does when it is having a bad day)."""

    port: int = field(default_factory=free_port)
    auth_token: str = "dev-only-token"  # signs the status callbacks, as Twilio does
    messages: list[Sms] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    callbacks: dict[str, str] = field(default_factory=dict)  # sid → status callback URL
    fail_next: int = 0
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Called (kind "call" or "sms", the resource's sid, the request's form) after each
    # create, outside the lock: a simulator plays the call or the reply from there.
    on_create: object = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                parts = self.path.split("?")[0].strip("/").split("/")
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if len(parts) != 4 or parts[:2] != ["2010-04-01", "Accounts"] or \
                        parts[3] not in ("Messages.json", "Calls.json"):
                    return self._answer(404, {"code": 20404, "message": "not found", "status": 404})
                auth = self.headers.get("Authorization", "")
                user = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":")[0] if auth else ""
                if user != parts[2]:
                    return self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                with fake.lock:
                    if fake.fail_next > 0:
                        fake.fail_next -= 1
                        fake.failures += 1
                        return self._answer(500, {"code": 20500, "message": "Internal Server Error",
                                                  "status": 500})
                    if parts[3] == "Calls.json":
                        sid = "CA" + uuid.uuid4().hex
                        fake.calls.append(Call(parts[2], form.get("To", ""), form.get("From", ""),
                                               form.get("Twiml", ""), form.get("StatusCallback", ""),
                                               sid))
                    else:
                        sid = "SM" + uuid.uuid4().hex
                        fake.messages.append(Sms(parts[2], form.get("To", ""), form.get("From", ""),
                                                 form.get("Body", ""), sid))
                    if form.get("StatusCallback"):
                        fake.callbacks[sid] = form["StatusCallback"]
                if fake.on_create is not None:
                    fake.on_create("call" if parts[3] == "Calls.json" else "sms", sid, form)
                if parts[3] == "Calls.json":
                    return self._answer(201, {
                        "sid": sid, "account_sid": parts[2], "to": form.get("To"),
                        "from": form.get("From"), "status": "queued", "direction": "outbound-api",
                        "api_version": "2010-04-01",
                        "uri": f"/2010-04-01/Accounts/{parts[2]}/Calls/{sid}.json"})
                return self._answer(201, {"sid": sid, "account_sid": parts[2], "to": form.get("To"),
                                          "from": form.get("From"), "body": form.get("Body"),
                                          "status": "queued", "num_segments": "1",
                                          "direction": "outbound-api", "api_version": "2010-04-01",
                                          "uri": f"/2010-04-01/Accounts/{parts[2]}/Messages/{sid}.json"})

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def signed(self, url: str, params: dict[str, str]) -> dict[str, str]:
        """The headers Twilio sends with a webhook: its signature of the URL and form."""
        return {"X-Twilio-Signature": RequestValidator(self.auth_token).compute_signature(url, params)}

    def status_update(self, sid: str, status: str, **extra: str) -> tuple[str, dict, dict]:
        """(url, form, headers) of the status callback Twilio would post for ``sid``."""
        url = self.callbacks[sid]
        key = "CallStatus" if sid.startswith("CA") else "MessageStatus"
        sid_key = "CallSid" if sid.startswith("CA") else "MessageSid"
        params = {sid_key: sid, key: status, "AccountSid": "AC" + "0" * 32, **extra}
        return url, params, self.signed(url, params)

    def send_status(self, sid: str, status: str, **extra: str) -> int:
        """Post that callback for real (to a running payer_comms API); its HTTP status."""
        url, params, headers = self.status_update(sid, status, **extra)
        return httpx.post(url, data=params, headers=headers, timeout=10).status_code

    def inbound_sms(self, to_url: str, *, sender: str, body: str, to: str = "+15005550006",
                    sid: str | None = None) -> tuple[str, dict, dict]:
        """(url, form, headers) of an inbound SMS webhook as Twilio would post it."""
        params = {"MessageSid": sid or "SM" + uuid.uuid4().hex, "From": sender, "To": to,
                  "Body": body, "AccountSid": "AC" + "0" * 32, "NumMedia": "0"}
        return to_url, params, self.signed(to_url, params)


@dataclass
class Mail:
    to: list[str]
    subject: str
    body: str


class _Collect:
    def __init__(self, box: list[Mail]) -> None:
        self.box = box

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content)
        self.box.append(Mail(list(envelope.rcpt_tos), msg["Subject"] or "",
                             msg.get_payload(decode=True).decode(errors="replace")))
        return "250 Message accepted for delivery"


class LocalSmtp:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[Mail] = []
        self.controller = Controller(_Collect(self.mails), hostname="127.0.0.1", port=self.port)

    def start(self) -> LocalSmtp:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
