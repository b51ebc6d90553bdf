"""payer_comms's plain rules for payer interactions: phone numbers, consent (TCPA) before a
call or an SMS, revocation words in an inbound SMS, the Twilio states of a call and a
message, and how an inbound item finds its task. No I/O here."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

CHANNELS = ("voice", "sms", "email")
DIRECTIONS = ("outbound", "inbound")

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def e164(number: str | None) -> str | None:
    """A phone number in E.164 (``+15551234567``), or None when it cannot be one. North
    American numbers written with spaces, dashes, dots or brackets, with or without the
    leading 1, are accepted; anything else must already start with ``+``."""
    if not number:
        return None
    raw = number.strip()
    digits = re.sub(r"[\s().\-]", "", raw)
    if digits.startswith("+"):
        return digits if E164.match(digits) else None
    if not digits.isdigit():
        return None
    if len(digits) == 10:
        digits = "1" + digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+" + digits
    return None


# -- consent --------------------------------------------------------------------------

@dataclass(frozen=True)
class Consent:
    """A consent record of one number for one channel (voice or sms)."""
    channel: str
    source: str               # how it was given: "payer contract", "written form", ...
    given_at: datetime
    revoked_at: datetime | None = None

    def valid_at(self, at: datetime) -> bool:
        return self.given_at <= at and (self.revoked_at is None or at < self.revoked_at)


@dataclass(frozen=True)
class ConsentDecision:
    allowed: bool
    basis: str                # "business line", "consent", or why not


def consent_for(channel: str, number: str, *, business_lines: set[str],
                consents: list[Consent], at: datetime) -> ConsentDecision:
    """May we call or text ``number`` now? A registered business line (a payer's provider
    services, fax or IVR line in the payer directory) needs no consent; any other number
    needs a consent for this channel that was given before now and not revoked. E-mail
    needs none (TCPA covers calls and texts)."""
    if channel == "email":
        return ConsentDecision(True, "e-mail needs no TCPA consent")
    if channel not in ("voice", "sms"):
        raise ValueError(f"unknown channel {channel!r}")
    if number in business_lines:
        return ConsentDecision(True, "business line")
    mine = [c for c in consents if c.channel == channel]
    if any(c.valid_at(at) for c in mine):
        return ConsentDecision(True, "consent")
    if any(c.revoked_at is not None and c.revoked_at <= at for c in mine):
        return ConsentDecision(False, f"consent to {channel_word(channel)} this number was revoked")
    return ConsentDecision(False, f"no consent on record to {channel_word(channel)} this number, "
                                  "and it is not a payer's registered business line")


def channel_word(channel: str) -> str:
    return {"voice": "call", "sms": "text", "email": "e-mail"}[channel]


# Revocation by "any reasonable means" (47 CFR 64.1200(a)(12), FCC 24-24): these words in a
# reply to a text revoke consent. A reply that is only such a word (or starts with one)
# revokes; so does "stop", "unsubscribe", "opt out", "revoke" or "quit" anywhere in a
# short reply. "end" and "cancel" inside a longer sentence ("paid by the end of the month")
# do not, as they are ordinary words there.
REVOCATION_WORDS = ("stop", "stopall", "quit", "end", "revoke", "opt out", "optout", "opt-out",
                    "cancel", "unsubscribe")
_STRONG = ("stop", "stopall", "unsubscribe", "opt out", "optout", "opt-out", "revoke", "quit")
_WORDS = re.compile(r"[a-z]+(?:[- ]out)?")


def is_revocation(text: str | None) -> bool:
    """Whether an inbound SMS revokes consent (see REVOCATION_WORDS)."""
    if not text:
        return False
    t = re.sub(r"[^a-z\- ]+", " ", text.lower()).strip()
    t = re.sub(r"\s+", " ", t)
    if not t:
        return False
    for w in REVOCATION_WORDS:
        if t == w or t.startswith(w + " "):
            return True
    words = t.split(" ")
    if len(words) <= 12:
        joined = f" {t} "
        return any(f" {w} " in joined for w in _STRONG)
    return False


REVOCATION_CONFIRMATION = ("You will get no more texts from this number. "
                           "Reply START to receive them again.")


# -- Twilio states --------------------------------------------------------------------

# A call's status callbacks (Twilio's CallStatus) and a message's (MessageStatus), in the
# order they happen; a late callback never moves an interaction back.
CALL_STATES = ("queued", "initiated", "ringing", "in-progress", "completed", "busy",
               "no-answer", "failed", "canceled")
CALL_FINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
MESSAGE_STATES = ("accepted", "scheduled", "queued", "sending", "sent", "delivered",
                  "undelivered", "failed", "received", "read")
MESSAGE_FINAL = frozenset({"delivered", "undelivered", "failed", "received", "read"})


def rank(channel: str, status: str) -> int:
    """The order of a status in its channel's life; -1 for one we do not know."""
    states = CALL_STATES if channel == "voice" else MESSAGE_STATES
    if status == "refused":
        return len(states)
    try:
        i = states.index(status)
    except ValueError:
        return -1
    finals = CALL_FINAL if channel == "voice" else MESSAGE_FINAL
    return len(states) if status in finals else i


def moves_forward(channel: str, current: str, new: str) -> bool:
    """Whether a callback's status may replace the current one (never backwards, never
    out of a final state)."""
    if rank(channel, new) < 0:
        return False
    finals = CALL_FINAL if channel == "voice" else MESSAGE_FINAL
    if current in finals or current == "refused":
        return False
    return rank(channel, new) > rank(channel, current)


# -- matching inbound items to tasks --------------------------------------------------

TASK_REF = re.compile(r"\bWQ-([0-9a-f]{8})\b", re.IGNORECASE)
CLAIM_REF = re.compile(r"\bclaim\s*(?:no\.?|number|#|id)?\s*[:#]?\s*([A-Z0-9][A-Z0-9\-]{4,30})\b",
                       re.IGNORECASE)


def task_reference(task_id) -> str:
    """The short reference put in every outbound message's text or subject ("WQ-1a2b3c4d"),
    by which a reply finds its task."""
    return f"WQ-{str(task_id).replace('-', '')[:8]}"


@dataclass(frozen=True)
class Clues:
    task_refs: tuple[str, ...]     # the first 8 hex digits of task ids
    claim_numbers: tuple[str, ...]


def clues(*texts: str | None) -> Clues:
    """Task references and claim numbers named in a text or a subject."""
    refs, claims = [], []
    for t in texts:
        if not t:
            continue
        refs += [m.lower() for m in TASK_REF.findall(t)]
        claims += [m.upper() for m in CLAIM_REF.findall(t)]
    return Clues(tuple(dict.fromkeys(refs)), tuple(dict.fromkeys(claims)))


@dataclass(frozen=True)
class Candidate:
    """An open task an inbound item might belong to."""
    task_id: str
    payer_id: str | None
    claim_number: str | None
    last_outbound_at: datetime | None   # our latest message or call to this contact on it


def match(c: Clues, candidates: list[Candidate], *, thread_task_id: str | None = None) -> str | None:
    """The task an inbound item belongs to, or None (it goes to triage). In order: the
    thread of an earlier outbound e-mail (In-Reply-To), a task reference in the text, a
    claim number of one of the contact's tasks, else (when it names no task or claim) the
    contact's only task with an outbound interaction. Ambiguity is never guessed: two
    equally good tasks, or a reference to none of them → None."""
    ids = {x.task_id for x in candidates}
    if thread_task_id and thread_task_id in ids:
        return thread_task_id
    by_ref = [x for x in candidates if str(x.task_id).replace("-", "")[:8] in c.task_refs]
    if len(by_ref) == 1:
        return by_ref[0].task_id
    by_claim = [x for x in candidates if x.claim_number and x.claim_number.upper() in c.claim_numbers]
    if len(by_claim) == 1:
        return by_claim[0].task_id
    if c.task_refs or c.claim_numbers:
        return None  # it names a task or claim we cannot pin down: a person decides
    talked = [x for x in candidates if x.last_outbound_at is not None]
    return talked[0].task_id if len(talked) == 1 else None
