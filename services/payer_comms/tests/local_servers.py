"""Local stand-ins for the outside systems, speaking their real protocols: an HTTP server
that answers Twilio's Messages API (and can be told to fail), and an SMTP server (aiosmtpd).
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

from aiosmtpd.controller import Controller

from common.localstack import free_port


@dataclass
class Sms:
    account_sid: str
    to: str
    from_: str
    body: str
    sid: str


@dataclass
class FakeTwilio:
    """POST /2010-04-01/Accounts/{sid}/Messages.json → 201 with a message resource;
    ``fail_next`` requests get HTTP 500 first (as Twilio does when it is having a bad day)."""

    port: int = field(default_factory=free_port)
    messages: list[Sms] = field(default_factory=list)
    fail_next: int = 0
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

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
                if len(parts) != 4 or parts[:2] != ["2010-04-01", "Accounts"] or parts[3] != "Messages.json":
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
                    sid = "SM" + uuid.uuid4().hex
                    fake.messages.append(Sms(parts[2], form.get("To", ""), form.get("From", ""),
                                             form.get("Body", ""), sid))
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
