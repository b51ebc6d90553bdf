"""A payer's side of the line, for `make run`: a local server that speaks Twilio's Calls
and Messages APIs (the payer_comms tests' FakeTwilio) and plays each call through — the
staff phone rings, the payer answers, the call ends after a while — posting the signed
status callbacks Twilio would; texts are sent and delivered, and the payer answers each one
a few seconds later by SMS; e-mails to payers land in a local SMTP server and the payer
replies in the same thread. It only listens on 127.0.0.1 and never reaches the internet.

    python scripts/payer_sim.py [--port 8090] [--smtp-port 2526]
"""
from __future__ import annotations

import argparse
import hashlib
import re
import smtplib
import threading
import time
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

import httpx
from aiosmtpd.controller import Controller

from services.payer_comms.tests.local_servers import FakeTwilio

REF = re.compile(r"WQ-[0-9a-f]{8}", re.I)
OUR_NUMBER = "+15005550006"
ANSWERS = [  # what a payer says back; {ref} keeps the thread
    "Re {ref}: claim received and in process. Reference {num}. Expect a decision in 10 business days.",
    "Re {ref}: claim reprocessed, payment scheduled for next week. Reference {num}.",
    "Re {ref}: we need the operative report to continue. Fax it to the number on file. Ref {num}.",
]


def _pick(sid: str, n: int) -> int:
    """Deterministic per call or message: the demo looks the same every time."""
    return int(hashlib.sha256(sid.encode()).hexdigest(), 16) % n


class PayerSim:
    def __init__(self, port: int, smtp_port: int, payer_comms_url: str, inbound_smtp: int,
                 auth_token: str, pace: float = 1.0) -> None:
        self.twilio = FakeTwilio(port=port, auth_token=auth_token, on_create=self.created)
        self.smtp_port, self.url, self.pace = smtp_port, payer_comms_url, pace
        self.inbound_smtp = inbound_smtp

    def later(self, delay: float, fn, *args, **kw) -> None:
        t = threading.Timer(delay * self.pace, self._safe, (fn, *args), kw)
        t.daemon = True
        t.start()

    @staticmethod
    def _safe(fn, *args, **kw) -> None:
        try:
            fn(*args, **kw)
        except Exception as exc:  # payer_comms away for a moment: the demo goes on
            print(f"payer-sim: {type(exc).__name__}: {exc}", flush=True)

    def created(self, kind: str, sid: str, form: dict) -> None:
        if kind == "call":
            length = 20 + 7 * _pick(sid, 12)  # 20 s … 97 s on the line
            for at, status, extra in ((0.5, "initiated", {}), (1.5, "ringing", {}),
                                      (4.0, "in-progress", {}),
                                      (4.0 + min(length, 12), "completed",
                                       {"CallDuration": str(length)})):
                self.later(at, self.twilio.send_status, sid, status, **extra)
        elif form.get("StatusCallback"):
            self.later(0.5, self.twilio.send_status, sid, "sent")
            self.later(1.5, self.twilio.send_status, sid, "delivered")
            m = REF.search(form.get("Body", ""))
            if m:
                self.later(5.0, self.reply_sms, form.get("To", ""), m.group(0), sid)

    def reply_sms(self, payer_number: str, ref: str, sid: str) -> None:
        text = ANSWERS[_pick(sid, len(ANSWERS))].format(ref=ref, num=f"R{_pick(sid, 90000) + 10000}")
        url, params, headers = self.twilio.inbound_sms(f"{self.url}/twilio/sms/inbound",
                                                       sender=payer_number, body=text, to=OUR_NUMBER)
        httpx.post(url, data=params, headers=headers, timeout=10)

    def reply_email(self, msg) -> None:
        reply = EmailMessage()
        sender = parseaddr(str(msg.get("To", "")))[1]
        reply["From"], reply["To"] = sender, parseaddr(str(msg.get("From", "")))[1]
        reply["Subject"] = "Re: " + str(msg.get("Subject", ""))
        reply["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
        reply["In-Reply-To"] = reply["References"] = str(msg.get("Message-ID", ""))
        ref = REF.search(str(msg.get("Subject", "")))
        reply.set_content(ANSWERS[_pick(str(msg.get("Message-ID")), len(ANSWERS))].format(
            ref=ref.group(0) if ref else "your e-mail", num="E" + str(_pick(sender, 90000) + 10000)))
        with smtplib.SMTP("127.0.0.1", self.inbound_smtp, timeout=10) as smtp:
            smtp.send_message(reply)

    def start(self) -> PayerSim:
        self.twilio.start()
        sim = self

        class Mailbox:
            async def handle_DATA(self, server, session, envelope):
                from email import message_from_bytes

                msg = message_from_bytes(envelope.content)
                if ".payer.test" in " ".join(envelope.rcpt_tos):  # an e-mail to a payer
                    sim.later(6.0, sim.reply_email, msg)
                return "250 Message accepted for delivery"

        self.smtp = Controller(Mailbox(), hostname="127.0.0.1", port=self.smtp_port)
        self.smtp.start()
        return self


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=8090, help="Twilio API (Calls, Messages)")
    ap.add_argument("--smtp-port", type=int, default=2526, help="where payer_comms sends e-mail")
    ap.add_argument("--payer-comms-url", default="http://127.0.0.1:8005")
    ap.add_argument("--inbound-smtp-port", type=int, default=2525, help="payer_comms's inbound mailbox")
    ap.add_argument("--auth-token", default="dev-only-token")
    args = ap.parse_args()
    PayerSim(args.port, args.smtp_port, args.payer_comms_url, args.inbound_smtp_port,
             args.auth_token).start()
    print(f"payer-sim: Twilio API on http://127.0.0.1:{args.port}, SMTP on 127.0.0.1:{args.smtp_port}",
          flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
