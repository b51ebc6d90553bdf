"""The next-best-action catalogue: every action nba may suggest and a person may pick
instead ("modify"). A shared contract, like the routing rules: nba suggests from it, the
gateway validates decisions against it and shows the labels. ``Suggestion`` is what nba's
internal API answers for a task and what the gateway shows on it."""
from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

# code → label shown to staff. Codes are stable (they key learnt statistics); labels may change.
ACTIONS: dict[str, str] = {
    "appeal_with_records": "File appeal with medical records",
    "peer_to_peer": "Request peer-to-peer review",
    "call_payer": "Call payer",
    "collect_records": "Collect medical records",
    "corrected_claim": "Submit corrected claim",
    "verify_eligibility": "Verify eligibility",
    "retro_auth": "Request retro authorization",
    "bill_patient": "Bill patient",
    "write_off_contractual": "Write off (contractual)",
    "bill_other_payer": "Bill the other payer (coordination of benefits)",
    "timely_filing_proof": "Appeal with proof of timely filing",
    "close_duplicate": "Confirm duplicate and close",
    "submit_auth": "Submit authorization request",
    "check_claim_status": "Check claim status (276/277)",
    "send_to_prescriber": "Send renewal to the prescriber",
    "route_cosign": "Route to the supervising provider for co-sign",
    "request_referral": "Request referral authorization",
    "care_plan_review": "Complete the care-plan review",
}

DECISIONS = ("accepted", "modified", "dismissed")

# businessStatus values (lower case) that end a task well or badly, for learning. A
# contractual write-off done right is "adjusted" (good); "written-off" means money lost.
GOOD_OUTCOMES = frozenset({"paid", "overturned", "approved", "resolved", "adjusted", "collected",
                           "corrected", "renewed", "signed"})
BAD_OUTCOMES = frozenset({"denied", "upheld", "denied-upheld", "written-off", "unrecoverable",
                          "rejected", "failed"})


def label(code: str) -> str:
    """The human text of an action code (the code itself when unknown)."""
    return ACTIONS.get(code, code)


def catalogue() -> list[dict[str, str]]:
    """Every action as {code, label}, for a 'modify' picker."""
    return [{"code": c, "label": lbl} for c, lbl in ACTIONS.items()]


class Suggestion(BaseModel):
    """nba's next step for a task (the contract the web UI shows inline)."""
    suggestion_id: uuid.UUID
    action: str = Field(description="an action code of the catalogue")
    action_label: str
    reason: str
    confidence: float = Field(ge=0, le=1, description="posterior mean of the action's success rate")
    exploring: bool = Field(description="tried to learn, not the best-known action")
    computed_at: str
