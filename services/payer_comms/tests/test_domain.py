"""payer_comms's rules for payer interactions, without I/O: numbers, consent, revocation
words, the order of Twilio states, matching an inbound item to its task."""
from datetime import UTC, datetime, timedelta

import pytest

from services.payer_comms import domain
from services.payer_comms.domain import Candidate, Consent

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("raw, want", [
    ("+15551234567", "+15551234567"), ("(555) 123-4567", "+15551234567"),
    ("1-555-123-4567", "+15551234567"), ("555.123.4567", "+15551234567"),
    ("+44 20 7946 0958", "+442079460958"), ("123", None), ("+0123456789", None),
    ("555-CALL-NOW", None), ("", None), (None, None), ("+1555123456789012", None)])
def test_numbers_are_read_as_e164_or_refused(raw, want):
    assert domain.e164(raw) == want


def test_a_business_line_needs_no_consent_and_any_other_number_does():
    line, mobile = "+18005550101", "+15555550123"
    ok = domain.consent_for("voice", line, business_lines={line}, consents=[], at=NOW)
    assert ok.allowed and ok.basis == "business line"
    no = domain.consent_for("sms", mobile, business_lines={line}, consents=[], at=NOW)
    assert not no.allowed and "no consent on record to text this number" in no.basis
    given = Consent("sms", "written form", NOW - timedelta(days=3))
    assert domain.consent_for("sms", mobile, business_lines=set(), consents=[given], at=NOW).allowed
    # consent for texts is not consent for calls, and consent given later does not count now
    assert not domain.consent_for("voice", mobile, business_lines=set(), consents=[given], at=NOW).allowed
    later = Consent("voice", "phone", NOW + timedelta(minutes=1))
    assert not domain.consent_for("voice", mobile, business_lines=set(), consents=[later], at=NOW).allowed
    revoked = Consent("sms", "written form", NOW - timedelta(days=3), revoked_at=NOW - timedelta(hours=1))
    r = domain.consent_for("sms", mobile, business_lines=set(), consents=[revoked], at=NOW)
    assert not r.allowed and "revoked" in r.basis
    assert domain.consent_for("email", "x@payer.test", business_lines=set(), consents=[], at=NOW).allowed
    with pytest.raises(ValueError):
        domain.consent_for("fax", line, business_lines=set(), consents=[], at=NOW)


@pytest.mark.parametrize("text", ["STOP", "stop", " Stop. ", "QUIT", "End", "revoke", "OPT OUT",
                                  "opt-out", "Cancel!", "unsubscribe", "STOPALL",
                                  "stop texting me", "please unsubscribe me",
                                  "I want to opt out of these", "Quit messaging this number"])
def test_revocation_words_revoke(text):
    assert domain.is_revocation(text)


@pytest.mark.parametrize("text", ["", None, "Claim 12345 will pay by the end of the month",
                                  "Reference 88812, reprocessing, do not cancel the appeal yet",
                                  "The claim was denied for CO-197", "stopped at the clearinghouse?",
                                  "123"])
def test_ordinary_replies_do_not_revoke(text):
    assert not domain.is_revocation(text)


def test_a_late_callback_never_moves_an_interaction_back():
    assert domain.moves_forward("voice", "initiated", "ringing")
    assert domain.moves_forward("voice", "ringing", "completed")
    assert not domain.moves_forward("voice", "completed", "ringing")
    assert not domain.moves_forward("voice", "in-progress", "ringing")
    assert not domain.moves_forward("voice", "completed", "failed")
    assert not domain.moves_forward("voice", "ringing", "exploded")
    assert domain.moves_forward("sms", "queued", "sent") and domain.moves_forward("sms", "sent", "delivered")
    assert not domain.moves_forward("sms", "delivered", "sent")
    assert not domain.moves_forward("sms", "refused", "sent")


def test_an_inbound_item_finds_its_task_or_goes_to_triage():
    a = Candidate("1a2b3c4d-0000-4000-8000-000000000001", "aetna", "CLM-20931", NOW)
    b = Candidate("9f8e7d6c-0000-4000-8000-000000000002", "aetna", "CLM-55120", None)
    c = Candidate("5e5e5e5e-0000-4000-8000-000000000003", "aetna", "CLM-55120", NOW)
    ref = domain.task_reference(a.task_id)
    assert ref == "WQ-1a2b3c4d"
    assert domain.match(domain.clues(f"Re: {ref} your appeal"), [a, b]) == a.task_id
    assert domain.match(domain.clues("about claim # CLM-20931, paid Friday"), [a, b]) == a.task_id
    # the thread of an earlier e-mail wins over everything else
    assert domain.match(domain.clues("claim CLM-20931"), [a, b], thread_task_id=b.task_id) == b.task_id
    # two tasks with the same claim number: ambiguous, to triage
    assert domain.match(domain.clues("claim number: CLM-55120"), [b, c]) is None
    # no clue: the contact's only task we reached out on
    assert domain.match(domain.clues("ok, call us back"), [a, b]) == a.task_id
    assert domain.match(domain.clues("ok"), [a, c]) is None
    assert domain.match(domain.clues("hello"), []) is None
    # a reference to another org's or an unknown task matches nothing
    assert domain.match(domain.clues("WQ-deadbeef"), [a, b]) is None
