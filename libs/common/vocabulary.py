"""The words every service shares, owned once: task types, priorities, FHIR task statuses
(and which of them are finished), staff roles. Events carry them as strings (their schemas
document the same lists); code compares against these."""
from __future__ import annotations

TASK_TYPES: tuple[str, ...] = ("Denial", "Prior Auth", "RxRenewal", "Co-sign", "Referral",
                               "Follow-up", "Claim Status", "Care Coordination")
PRIORITIES: tuple[str, ...] = ("Urgent", "High", "Routine", "Low")  # most urgent first
SOURCE_MODULES: tuple[str, ...] = ("RCM", "eRx", "Referrals", "Clinical", "Billing")

# FHIR R4 Task.status (https://hl7.org/fhir/R4/valueset-task-status.html); a finished task
# needs nobody any more: no clock runs, no suggestion is made, no workload is counted.
STATUSES: tuple[str, ...] = ("draft", "requested", "received", "accepted", "rejected", "ready",
                             "cancelled", "in-progress", "on-hold", "failed", "completed",
                             "entered-in-error")
FINISHED: frozenset[str] = frozenset({"rejected", "cancelled", "failed", "completed",
                                      "entered-in-error"})

ROLES: tuple[str, ...] = ("biller", "senior_biller", "nurse", "physician", "care_coordinator",
                          "practice_manager", "org_admin", "billing_admin")
MANAGERS: frozenset[str] = frozenset({"practice_manager", "org_admin"})
