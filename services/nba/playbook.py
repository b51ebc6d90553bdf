"""Domain knowledge nba starts from: which actions plausibly resolve a denial, by its Claim
Adjustment Reason Code (CARC) and Remittance Advice Remark Code (RARC), and what to do for
the other task types. Data, not logic: each entry says what the code means (X12 code
lists, https://x12.org/codes/claim-adjustment-reason-codes and
https://x12.org/codes/remittance-advice-remark-codes) and why these actions.

A prior is a plausible success rate (0..1) for an action on a denial with that code: it
ranks the actions before any outcome is known, and counts as ``PRIOR_STRENGTH`` pseudo-
observations once outcomes arrive (domain.posterior). They are judgement, not measurement:
an org's outcomes override them within a few dozen tasks.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    meaning: str
    category: str  # reason category: the backoff level groups codes with the same remedies
    actions: dict[str, float]  # action → prior success rate
    note: str = ""


# CARC number (without the group code) → entry.
CARC: dict[str, Entry] = {
    "1": Entry("Deductible amount", "patient_responsibility",
               {"bill_patient": 0.8, "verify_eligibility": 0.2},
               "Patient owes it under the plan; bill the patient (PR group)."),
    "2": Entry("Coinsurance amount", "patient_responsibility",
               {"bill_patient": 0.8, "bill_other_payer": 0.3}),
    "3": Entry("Co-payment amount", "patient_responsibility", {"bill_patient": 0.85}),
    "4": Entry("The procedure code is inconsistent with the modifier used, or a required "
               "modifier is missing", "coding", {"corrected_claim": 0.75, "call_payer": 0.25}),
    "5": Entry("The procedure code/type of bill is inconsistent with the place of service",
               "coding", {"corrected_claim": 0.7, "call_payer": 0.25}),
    "11": Entry("The diagnosis is inconsistent with the procedure", "coding",
                {"corrected_claim": 0.6, "appeal_with_records": 0.35}),
    "15": Entry("The authorization number is missing, invalid, or does not apply to the "
                "billed services or provider", "authorization",
                {"corrected_claim": 0.65, "retro_auth": 0.35, "call_payer": 0.3}),
    "16": Entry("Claim/service lacks information or has submission/billing error(s)",
                "missing_information",
                {"corrected_claim": 0.6, "collect_records": 0.4, "call_payer": 0.3},
                "The RARCs on the remit say what is missing (e.g. N290, M127)."),
    "18": Entry("Exact duplicate claim/service", "duplicate",
                {"close_duplicate": 0.6, "call_payer": 0.4, "check_claim_status": 0.35},
                "Usually the original is paid or pending; confirm before resubmitting."),
    "22": Entry("This care may be covered by another payer per coordination of benefits",
                "cob", {"bill_other_payer": 0.65, "verify_eligibility": 0.45, "call_payer": 0.3}),
    "27": Entry("Expenses incurred after coverage terminated", "eligibility",
                {"verify_eligibility": 0.55, "bill_patient": 0.4, "bill_other_payer": 0.35},
                "Check for new coverage first; the patient owes it only if there is none."),
    "29": Entry("The time limit for filing has expired", "timely_filing",
                {"timely_filing_proof": 0.4, "write_off_contractual": 0.5, "call_payer": 0.15},
                "Appeal only with proof (clearinghouse acceptance report); otherwise a "
                "provider write-off: it may not be billed to the patient."),
    "31": Entry("Patient cannot be identified as our insured", "eligibility",
                {"verify_eligibility": 0.7, "corrected_claim": 0.45}),
    "45": Entry("Charge exceeds fee schedule/maximum allowable or contracted/legislated fee "
                "arrangement", "contractual",
                {"write_off_contractual": 0.85, "call_payer": 0.15},
                "Contractual adjustment (CO group): write off; appeal only if the allowed "
                "amount is below the contract."),
    "50": Entry("These are non-covered services because this is not deemed a 'medical "
                "necessity' by the payer", "medical_necessity",
                {"appeal_with_records": 0.55, "peer_to_peer": 0.45, "collect_records": 0.3}),
    "96": Entry("Non-covered charge(s)", "non_covered",
                {"bill_patient": 0.45, "appeal_with_records": 0.3, "call_payer": 0.25},
                "Billable to the patient only with a signed ABN/waiver."),
    "97": Entry("The benefit for this service is included in the payment/allowance for "
                "another service/procedure that has already been adjudicated", "bundling",
                {"corrected_claim": 0.5, "write_off_contractual": 0.45,
                 "appeal_with_records": 0.25},
                "A distinct-service modifier (59/X{EPSU}) when documented; else write off."),
    "109": Entry("Claim/service not covered by this payer/contractor; send the claim to the "
                 "correct payer/contractor", "eligibility",
                 {"verify_eligibility": 0.6, "bill_other_payer": 0.55}),
    "119": Entry("Benefit maximum for this time period or occurrence has been reached",
                 "non_covered", {"bill_patient": 0.6, "bill_other_payer": 0.3,
                                 "appeal_with_records": 0.2}),
    "151": Entry("Payment adjusted because the payer deems the information submitted does "
                 "not support this many/frequency of services", "medical_necessity",
                 {"appeal_with_records": 0.5, "peer_to_peer": 0.35,
                  "write_off_contractual": 0.3}),
    "167": Entry("This (these) diagnosis(es) is (are) not covered", "coding",
                 {"corrected_claim": 0.5, "appeal_with_records": 0.4}),
    "197": Entry("Precertification/authorization/notification/pre-treatment absent",
                 "authorization",
                 {"retro_auth": 0.5, "appeal_with_records": 0.4, "call_payer": 0.3,
                  "write_off_contractual": 0.2},
                 "Retro authorization where the payer allows it (urgent or emergent care)."),
    "204": Entry("This service/equipment/drug is not covered under the patient's current "
                 "benefit plan", "non_covered",
                 {"bill_patient": 0.45, "appeal_with_records": 0.35, "verify_eligibility": 0.2}),
    "252": Entry("An attachment/other documentation is required to adjudicate this "
                 "claim/service", "missing_information",
                 {"collect_records": 0.65, "corrected_claim": 0.35, "call_payer": 0.2},
                 "Send the attachment (275 or the payer's portal) with the claim number."),
}

# A denial whose code is not in the table: find out why first.
UNKNOWN_DENIAL = Entry("Reason code not in nba's table", "other",
                       {"call_payer": 0.5, "verify_eligibility": 0.35, "corrected_claim": 0.3})


@dataclass(frozen=True)
class Remark:
    meaning: str
    weights: dict[str, float] = field(default_factory=dict)  # action → multiplier of its prior
    add: dict[str, float] = field(default_factory=dict)  # actions the remark makes plausible


# RARCs refine the CARC's priors: they say what exactly is missing or why.
RARC: dict[str, Remark] = {
    "M127": Remark("Missing patient medical record for this service",
                   {"collect_records": 1.4, "appeal_with_records": 1.2},
                   {"collect_records": 0.55}),
    "N290": Remark("Missing/incomplete/invalid rendering provider primary identifier",
                   {"corrected_claim": 1.3}, {"corrected_claim": 0.7}),
    "MA130": Remark("Claim contains incomplete and/or invalid information, and no appeal "
                    "rights are afforded because the claim is unprocessable; submit a new "
                    "claim with the complete/correct information",
                    {"appeal_with_records": 0.2, "peer_to_peer": 0.2, "timely_filing_proof": 0.2,
                     "corrected_claim": 1.4}, {"corrected_claim": 0.7}),
    "N386": Remark("This decision was based on a National Coverage Determination (NCD)",
                   {"appeal_with_records": 0.8, "bill_patient": 1.2}),
    "N30": Remark("Patient ineligible for this service", {"verify_eligibility": 1.3}),
    "N179": Remark("Additional information has been requested from the member",
                   {"call_payer": 1.2, "bill_patient": 0.5}),
}

# Other task types: the usual next step (learning still applies, by payer and type).
TASK_TYPES: dict[str, Entry] = {
    "Prior Auth": Entry("Prior authorization decided (denied or pended)", "prior_auth",
                        {"peer_to_peer": 0.5, "submit_auth": 0.45, "appeal_with_records": 0.4,
                         "call_payer": 0.25}),
    "Claim Status": Entry("Claim stuck or pending", "claim_status",
                          {"check_claim_status": 0.6, "call_payer": 0.45}),
    "Follow-up": Entry("Payer follow-up due", "follow_up",
                       {"call_payer": 0.55, "check_claim_status": 0.5}),
    "Referral": Entry("Referral authorization requested", "referral",
                      {"request_referral": 0.7, "verify_eligibility": 0.35}),
    "RxRenewal": Entry("Prescription renewal requested", "rx", {"send_to_prescriber": 0.85}),
    "Co-sign": Entry("Co-signature requested", "cosign", {"route_cosign": 0.9}),
    "Care Coordination": Entry("Care-management review due", "care", {"care_plan_review": 0.9}),
}

GROUP_CODES = {"CO": "contractual obligation", "PR": "patient responsibility",
               "OA": "other adjustment", "PI": "payer-initiated reduction",
               "CR": "correction and reversal"}
