"""Every topic of the bus, its partitions and what keys it: declared once, created by
``make``/start-up (never by broker auto-creation)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    key: str  # what the producer keys messages by
    doc: str = ""

    @property
    def dlq(self) -> str:
        return f"{self.name}.dlq"


UPSTREAM_DENIALS = Topic("upstream.denials.v1", 6, "source_id", "DenialPosted from the RCM module")
UPSTREAM_PRIOR_AUTHS = Topic("upstream.prior_auths.v1", 3, "source_id", "PriorAuthDecided")
UPSTREAM_RX_RENEWALS = Topic("upstream.rx_renewals.v1", 3, "source_id", "RxRenewalRequested (eRx)")
UPSTREAM_COSIGNS = Topic("upstream.cosigns.v1", 3, "source_id", "CosignRequested (clinical)")
UPSTREAM_REFERRALS = Topic("upstream.referrals.v1", 3, "source_id", "ReferralAuthRequested")
UPSTREAM_FOLLOW_UPS = Topic("upstream.payer_followups.v1", 3, "source_id", "PayerFollowUpDue")
CLAIM_STATUS = Topic("claims.status.v1", 3, "source_id", "ClaimStatusChanged (payer_comms, RCM)")
TASK_REQUESTS = Topic("tasks.requests.v1", 3, "source_id", "TaskRequested (billing, manual)")
TASK_EVENTS = Topic(
    "tasks.events.v1", 6, "task_id",
    "The task's whole life: TaskCreated, TaskRouted, TaskAssigned, TaskStatusChanged, ...",
)
SLA_ESCALATIONS = Topic("sla.escalations.v1", 6, "task_id", "TaskEscalated, SlaDeadlineChanged")
ALERT_REQUESTS = Topic("alerts.requests.v1", 3, "org_id", "AlertRequested")
PAYER_REQUESTS = Topic("payer.requests.v1", 6, "task_id",
                       "CallRequested, MessageRequested, InteractionOutcomeRecorded, InteractionAttached")
PAYER_INTERACTIONS = Topic("payer.interactions.v1", 6, "task_id", "PayerInteractionLogged, AlertSent")
NBA_SUGGESTIONS = Topic("nba.suggestions.v1", 6, "task_id", "NbaSuggested")
BILLING_EVENTS = Topic("billing.events.v1", 3, "org_id", "BillingSummaryGenerated")
DIRECTORY = Topic("directory.v1", 3, "org_id", "users, roles, skills and config changes")

ALL: tuple[Topic, ...] = (
    UPSTREAM_DENIALS,
    UPSTREAM_PRIOR_AUTHS,
    UPSTREAM_RX_RENEWALS,
    UPSTREAM_COSIGNS,
    UPSTREAM_REFERRALS,
    UPSTREAM_FOLLOW_UPS,
    CLAIM_STATUS,
    TASK_REQUESTS,
    TASK_EVENTS,
    SLA_ESCALATIONS,
    ALERT_REQUESTS,
    PAYER_REQUESTS,
    PAYER_INTERACTIONS,
    NBA_SUGGESTIONS,
    BILLING_EVENTS,
    DIRECTORY,
)
BY_NAME = {t.name: t for t in ALL}

# Which topic each event type travels on. The codec refuses an event type not listed here.
EVENT_TOPICS: dict[str, Topic] = {
    "DenialPosted": UPSTREAM_DENIALS,
    "PriorAuthDecided": UPSTREAM_PRIOR_AUTHS,
    "RxRenewalRequested": UPSTREAM_RX_RENEWALS,
    "CosignRequested": UPSTREAM_COSIGNS,
    "ReferralAuthRequested": UPSTREAM_REFERRALS,
    "PayerFollowUpDue": UPSTREAM_FOLLOW_UPS,
    "ClaimStatusChanged": CLAIM_STATUS,
    "TaskRequested": TASK_REQUESTS,
    "OrgRegistered": DIRECTORY,
    "UserUpserted": DIRECTORY,
    "RoutingRulesChanged": DIRECTORY,
    "SlaPolicyChanged": DIRECTORY,
    "TaskPolicyChanged": DIRECTORY,
    "TaskCreated": TASK_EVENTS,
    "TaskRouted": TASK_EVENTS,
    "TaskStatusChanged": TASK_EVENTS,
    "TaskAssigned": TASK_EVENTS,
    "TaskTimeLogged": TASK_EVENTS,
    "TaskNoteAdded": TASK_EVENTS,
    "SuggestionDecided": TASK_EVENTS,
    "NbaSuggested": NBA_SUGGESTIONS,
    "TaskEscalated": SLA_ESCALATIONS,
    "SlaDeadlineChanged": SLA_ESCALATIONS,
    "AlertRequested": ALERT_REQUESTS,
    "AlertSent": PAYER_INTERACTIONS,
    "CallRequested": PAYER_REQUESTS,
    "MessageRequested": PAYER_REQUESTS,
    "InteractionOutcomeRecorded": PAYER_REQUESTS,
    "InteractionAttached": PAYER_REQUESTS,
    "PayerInteractionLogged": PAYER_INTERACTIONS,
}


def all_topic_names() -> list[tuple[str, int]]:
    """(name, partitions) for every topic and its dead-letter twin."""
    out = []
    for t in ALL:
        out.append((t.name, t.partitions))
        out.append((t.dlq, 1))
    return out
