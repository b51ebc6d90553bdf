"""Generated from schemas/avro by `python -m common.codegen`. Do not edit."""
from dataclasses_avroschema import types
import datetime
import pydantic
import typing
import uuid



class AlertRequested(pydantic.BaseModel):
    """
    Send an alert to named staff by SMS and/or e-mail (payer_comms delivers it, retrying). Carries ids and a short text without patient data. Keyed by org_id.
    """
    alert_id: uuid.UUID = pydantic.Field(description="The dedup key: one alert is delivered once per recipient and channel, however often it is requested.")
    kind: str = pydantic.Field(description="escalation or warning")
    recipient_user_ids: typing.List[str]
    channels: typing.List[str] = pydantic.Field(description="sms and/or email")
    subject: str
    body: str = pydantic.Field(description="Short text without patient data (task id, type, level).")
    task_id: typing.Optional[uuid.UUID] = None
    level: types.Int32 = pydantic.Field(description="The escalation level (0 for a warning).", default=0)
    suppressed_by: typing.Optional[str] = pydantic.Field(description="A maintenance window id: record the alert as suppressed, send nothing.", default=None)

    
    class Meta:
        namespace = "wq.alerts"
        field_order = ['alert_id', 'kind', 'task_id', 'level', 'recipient_user_ids', 'channels', 'subject', 'body', 'suppressed_by']


class AlertSent(pydantic.BaseModel):
    """
    payer_comms delivered (or gave up on, or suppressed) one alert to one person on one channel. Keyed by task_id (or org_id when the alert names no task).
    """
    alert_id: uuid.UUID
    user_id: str
    channel: str
    outcome: str = pydantic.Field(description="sent, failed (gave up after retries), suppressed or no_address")
    attempts: types.Int32
    task_id: typing.Optional[uuid.UUID] = None
    provider_message_id: typing.Optional[str] = None

    
    class Meta:
        namespace = "wq.alerts"
        field_order = ['alert_id', 'task_id', 'user_id', 'channel', 'outcome', 'attempts', 'provider_message_id']


class OrgRegistered(pydantic.BaseModel):
    """
    The gateway onboarded an org (or renamed it). Services that validate org ids learn them from this. Keyed by org_id.
    """
    org_id: str
    name: str

    
    class Meta:
        namespace = "wq.directory"


class RoutingRulesChanged(pydantic.BaseModel):
    """
    An org's routing rules, as a whole new version (validated by the gateway). Keyed by org_id.
    """
    version: types.Int32
    rules_json: str = pydantic.Field(description="JSON list of rules: {id, name, when, targets}.")
    changed_by: str

    
    class Meta:
        namespace = "wq.directory"


class SlaPolicyChanged(pydantic.BaseModel):
    """
    An org's SLA policies and maintenance windows, as a whole new version (validated by the gateway, contract in common.sla_policy). Keyed by org_id.
    """
    version: types.Int32
    policies_json: str = pydantic.Field(description="JSON list of policies: {id, task_type, payer_id, priority, deadline_hours, calendar, pause_on_hold, due_soon_hours, warn_before_hours, level2_after_hours}.")
    changed_by: str
    maintenance_json: str = pydantic.Field(description="JSON list of maintenance windows: {id, starts_at, ends_at, payer_id}.", default="[]")

    
    class Meta:
        namespace = "wq.directory"
        field_order = ['version', 'policies_json', 'maintenance_json', 'changed_by']


class TaskPolicyChanged(pydantic.BaseModel):
    """
    An org's intake policy for one task type, as a whole new version (validated by the gateway, contract in common.task_policy). Keyed by org_id.
    """
    task_type: str
    version: types.Int32 = pydantic.Field(description="Counts per org and task type; intake keeps the highest.")
    policy_json: str = pydantic.Field(description="JSON object: {sla_days, rules: [{when, priority}], default_priority, open_when, deadline_margin_days}.")
    changed_by: str

    
    class Meta:
        namespace = "wq.directory"


class UserUpserted(pydantic.BaseModel):
    """
    A staff member was added or changed in the gateway's directory (roles, skills, capacity, away, contact details for alerts). Keyed by org_id.
    """
    user_id: str
    name: str
    roles: typing.List[str]
    skills: typing.List[str] = pydantic.Field(default_factory=list)
    capacity: types.Int32 = pydantic.Field(description="Most active tasks routing gives this person.", default=40)
    away: bool = False
    active: bool = True
    email: typing.Optional[str] = pydantic.Field(description="Where alerts go by e-mail.", default=None)
    phone: typing.Optional[str] = pydantic.Field(description="E.164 number alerts go to by SMS.", default=None)

    
    class Meta:
        namespace = "wq.directory"


class NbaSuggested(pydantic.BaseModel):
    """
    nba suggests a next step for a task, or changed its suggestion (emitted when the suggested action differs from the task's previous one). Keyed by task_id.
    """
    task_id: uuid.UUID
    suggestion_id: uuid.UUID
    action: str = pydantic.Field(description="An action code of common.nba_actions.ACTIONS.")
    reason: str
    confidence: float = pydantic.Field(description="Posterior mean of the action's success rate, 0..1.")
    exploring: bool = pydantic.Field(description="True when the action is not the best-known one but is tried to learn.")
    evidence: str = pydantic.Field(description="Which level decided: payer (this payer and code), class (payer class and reason category) or table (domain prior).")
    task_type: str

    
    class Meta:
        namespace = "wq.nba"


class CallRequested(pydantic.BaseModel):
    """
    A member of staff asked to call a payer about a task (the gateway's 'Call payer'). payer_comms rings the staff member's phone and bridges it to the payer's line, after checking consent. Keyed by task_id.
    """
    interaction_id: uuid.UUID = pydantic.Field(description="The dedup key and the id of the interaction the call becomes.")
    task_id: uuid.UUID
    user_id: str = pydantic.Field(description="Who calls: payer_comms rings this person's phone (from UserUpserted).")
    payer_id: str
    to_number: typing.Optional[str] = pydantic.Field(description="E.164; none: the payer's provider-services line from the payer directory.", default=None)
    claim_number: typing.Optional[str] = pydantic.Field(description="The claim the call is about (matching and the call script).", default=None)

    
    class Meta:
        namespace = "wq.payer"


class InteractionAttached(pydantic.BaseModel):
    """
    A member of staff attached an inbound interaction from triage to a task of their org (or moved one to another task). payer_comms records it and announces the new state. Keyed by task_id.
    """
    interaction_id: uuid.UUID
    task_id: uuid.UUID
    user_id: str
    payer_id: typing.Optional[str] = None

    
    class Meta:
        namespace = "wq.payer"


class InteractionOutcomeRecorded(pydantic.BaseModel):
    """
    A member of staff recorded what came of a payer interaction (the outcome prompt after a call, or on any interaction): payer_comms keeps it on the interaction and announces the new state. The gateway makes the note and any follow-up sub-task itself. A later record replaces an earlier one field by field (a null leaves a field as it was). Keyed by task_id.
    """
    interaction_id: uuid.UUID
    task_id: uuid.UUID
    user_id: str
    reference_number: typing.Optional[str] = None
    claim_status: typing.Optional[str] = None
    promised_payment_date: typing.Optional[datetime.date] = None
    missing_information: typing.Optional[str] = None
    next_step: typing.Optional[str] = None
    follow_up_date: typing.Optional[datetime.date] = None
    carc_codes: typing.List[str] = pydantic.Field(description="The task's denial codes (nba learns per payer and code).", default_factory=list)

    
    class Meta:
        namespace = "wq.payer"


class MessageRequested(pydantic.BaseModel):
    """
    A member of staff asked to send a payer an SMS or an e-mail about a task (the text already filled from its template by the gateway). payer_comms checks consent (SMS), sends it, retrying, and logs it. Keyed by task_id.
    """
    interaction_id: uuid.UUID = pydantic.Field(description="The dedup key and the id of the interaction the message becomes.")
    task_id: uuid.UUID
    user_id: str = pydantic.Field(description="Who sends it.")
    payer_id: str
    channel: str = pydantic.Field(description="sms or email")
    body: str = pydantic.Field(description="An SMS is at most 1,600 characters.")
    to_address: typing.Optional[str] = pydantic.Field(description="E.164 number or e-mail address; none: the payer directory's.", default=None)
    subject: typing.Optional[str] = pydantic.Field(description="E-mail only.", default=None)
    claim_number: typing.Optional[str] = None

    
    class Meta:
        namespace = "wq.payer"
        field_order = ['interaction_id', 'task_id', 'user_id', 'payer_id', 'channel', 'to_address', 'subject', 'body', 'claim_number']


class PayerInteractionLogged(pydantic.BaseModel):
    """
    The state of one payer interaction (a call, an SMS or an e-mail, out or in) after a change: placed, ringing, answered, ended, delivered, received, refused for want of consent, matched to a task, its outcome given. Each carries the whole interaction and a revision that grows by one; a reader keeps the highest. Carries no message body, number or address. Keyed by task_id (the interaction id while unmatched).
    """
    interaction_id: uuid.UUID
    revision: types.Int32 = pydantic.Field(description="1 for the first state, then +1 per change.")
    channel: str = pydantic.Field(description="voice, sms or email")
    direction: str = pydantic.Field(description="outbound or inbound")
    status: str = pydantic.Field(description="pending (not yet handed to the provider); voice: queued, initiated, ringing, in-progress, completed, busy, no-answer, failed, canceled; sms/email: queued, sent, delivered, undelivered, failed, received; any: refused (not placed or sent: see refusal)")
    started_at: types.DateTimeMicro
    task_id: typing.Optional[uuid.UUID] = pydantic.Field(description="None: not matched to a task yet (in triage).", default=None)
    payer_id: typing.Optional[str] = None
    user_id: typing.Optional[str] = pydantic.Field(description="Who placed or sent it (outbound), or who attached it (inbound).", default=None)
    ended_at: typing.Optional[types.DateTimeMicro] = None
    duration_s: typing.Optional[types.Int32] = None
    summary: typing.Optional[str] = pydantic.Field(description="A short summary without patient data (the subject of an e-mail is not it).", default=None)
    refusal: typing.Optional[str] = pydantic.Field(description="Why it was not placed or sent (no consent, no number, revoked).", default=None)
    reference_number: typing.Optional[str] = None
    claim_status: typing.Optional[str] = None
    promised_payment_date: typing.Optional[datetime.date] = None
    missing_information: typing.Optional[str] = None
    next_step: typing.Optional[str] = pydantic.Field(description="e.g. resubmit with modifier 25; nba learns from it.", default=None)
    follow_up_date: typing.Optional[datetime.date] = None
    carc_codes: typing.List[str] = pydantic.Field(description="The task's denial codes, for nba to learn per payer and code.", default_factory=list)
    recording_url: typing.Optional[str] = pydantic.Field(description="Only when recordings are turned on.", default=None)

    
    class Meta:
        namespace = "wq.payer"
        field_order = ['interaction_id', 'revision', 'task_id', 'channel', 'direction', 'status', 'payer_id', 'user_id', 'started_at', 'ended_at', 'duration_s', 'summary', 'refusal', 'reference_number', 'claim_status', 'promised_payment_date', 'missing_information', 'next_step', 'follow_up_date', 'carc_codes', 'recording_url']


class SlaDeadlineChanged(pydantic.BaseModel):
    """
    The SLA deadline that counts for a task is not the one it came with, or moved: a policy set it, the clock paused (on hold) or resumed, or a policy change re-deadlined it. The gateway shows it as the task's due date and countdown. Keyed by task_id.
    """
    task_id: uuid.UUID
    due_at: types.DateTimeMicro
    reason: str = pydantic.Field(description="policy, paused, resumed or policy-changed")
    paused_at: typing.Optional[types.DateTimeMicro] = pydantic.Field(description="Set while the clock is stopped (on hold): the countdown is frozen at due_at - paused_at.", default=None)
    policy_id: typing.Optional[str] = None
    policy_version: typing.Optional[types.Int32] = None
    due_soon_hours: typing.Optional[float] = pydantic.Field(description="The policy's due-soon threshold.", default=None)

    
    class Meta:
        namespace = "wq.sla"
        field_order = ['task_id', 'due_at', 'paused_at', 'reason', 'policy_id', 'policy_version', 'due_soon_hours']


class TaskEscalated(pydantic.BaseModel):
    """
    A task's SLA deadline passed while it was active: the monitor moved it up one level of its escalation ladder (each level fires once per breach). Keyed by task_id.
    """
    task_id: uuid.UUID
    escalation_id: uuid.UUID = pydantic.Field(description="Stable per (task, breach, level): the same escalation always has this id.")
    level: types.Int32 = pydantic.Field(description="1: the practice manager; 2: the org admin.")
    reason: str
    task_type: str
    due_at: types.DateTimeMicro
    breached_at: types.DateTimeMicro = pydantic.Field(description="When this level became due (the deadline, or the deadline plus the level-2 delay).")
    escalated_at: types.DateTimeMicro
    escalated_to_role: str = pydantic.Field(description="practice_manager or org_admin")
    breach: types.Int32 = pydantic.Field(description="Which breach of this task (a task re-deadlined and breached again counts anew).", default=1)
    escalated_to_user_id: typing.Optional[str] = pydantic.Field(description="Who is now responsible; null when the org has nobody in that role.", default=None)
    policy_id: typing.Optional[str] = None
    policy_version: typing.Optional[types.Int32] = None
    appeal: bool = pydantic.Field(description="An overdue appeal (a Denial whose businessStatus starts with 'appeal'): level 2 opens an escalation task for the org admin.", default=False)
    alert_suppressed: typing.Optional[str] = pydantic.Field(description="The maintenance window that suppressed this escalation's alert, if any.", default=None)

    
    class Meta:
        namespace = "wq.sla"
        field_order = ['task_id', 'escalation_id', 'level', 'breach', 'reason', 'task_type', 'due_at', 'breached_at', 'escalated_at', 'escalated_to_role', 'escalated_to_user_id', 'policy_id', 'policy_version', 'appeal', 'alert_suppressed']


class SuggestionDecided(pydantic.BaseModel):
    """
    A person accepted, modified or dismissed nba's suggestion for a task (in the gateway). Keyed by task_id.
    """
    task_id: uuid.UUID
    suggestion_id: uuid.UUID
    decision: str = pydantic.Field(description="accepted, modified or dismissed")
    suggested_action: str
    actor_id: str
    task_type: str
    action: typing.Optional[str] = pydantic.Field(description="The action taken: the suggested one when accepted, the chosen one when modified, null when dismissed.", default=None)
    has_note: bool = pydantic.Field(description="The note's text stays in the gateway's audit log.", default=False)

    
    class Meta:
        namespace = "wq.tasks"
        field_order = ['task_id', 'suggestion_id', 'decision', 'suggested_action', 'action', 'actor_id', 'task_type', 'has_note']


class TaskAssigned(pydantic.BaseModel):
    """
    A task got a new owner, or none (unassigned). Keyed by task_id.
    """
    task_id: uuid.UUID
    actor_id: str
    task_type: str
    owner_id: typing.Optional[str] = None
    previous_owner_id: typing.Optional[str] = None
    reason: typing.Optional[str] = None

    
    class Meta:
        namespace = "wq.tasks"
        field_order = ['task_id', 'owner_id', 'previous_owner_id', 'actor_id', 'reason', 'task_type']


class TaskCreated(pydantic.BaseModel):
    """
    Intake turned a source event into a work item. Keyed by task_id.
    """
    task_id: uuid.UUID
    task_type: str = pydantic.Field(description="Denial, Prior Auth, RxRenewal, Co-sign, Referral, Follow-up, Claim Status or Care Coordination")
    priority: str = pydantic.Field(description="Urgent, High, Routine or Low")
    title: str
    due_at: types.DateTimeMicro
    source_kind: str = pydantic.Field(description="The source event type, e.g. DenialPosted.")
    source_id: str
    source_module: str = pydantic.Field(description="RCM, eRx, Referrals, Clinical or Billing")
    description: typing.Optional[str] = None
    patient_id: typing.Optional[str] = None
    patient_name: typing.Optional[str] = None
    payer_id: typing.Optional[str] = None
    payer_name: typing.Optional[str] = None
    payer_class: typing.Optional[str] = None
    amount: typing.Optional[types.condecimal(max_digits=12, decimal_places=2)] = None
    reason_codes: typing.List[str] = pydantic.Field(default_factory=list)
    cpt_codes: typing.List[str] = pydantic.Field(default_factory=list)
    icd_codes: typing.List[str] = pydantic.Field(default_factory=list)
    details: typing.Dict[str, str] = pydantic.Field(description="Source facts shown on the task page (claim id, Rx name, ...).", default_factory=dict)
    part_of: typing.Optional[uuid.UUID] = pydantic.Field(description="The parent task, for a sub-task.", default=None)

    
    class Meta:
        namespace = "wq.tasks"
        field_order = ['task_id', 'task_type', 'priority', 'title', 'description', 'due_at', 'patient_id', 'patient_name', 'payer_id', 'payer_name', 'payer_class', 'amount', 'reason_codes', 'cpt_codes', 'icd_codes', 'source_kind', 'source_id', 'source_module', 'details', 'part_of']


class TaskNoteAdded(pydantic.BaseModel):
    """
    A note was added to a task. The text stays in the gateway; the event carries ids only. Keyed by task_id.
    """
    task_id: uuid.UUID
    note_id: uuid.UUID
    author_id: str

    
    class Meta:
        namespace = "wq.tasks"


class RoutingCandidate(pydantic.BaseModel):
    user_id: str
    score: types.Int32
    active_tasks: types.Int32
    note: typing.Optional[str] = None



class TaskRouted(pydantic.BaseModel):
    """
    Routing chose where a task goes: a queue, and an owner when one matched. Keyed by task_id.
    """
    task_id: uuid.UUID
    queue: str
    reason: str
    owner_id: typing.Optional[str] = None
    rule_id: typing.Optional[str] = None
    rule_version: typing.Optional[types.Int32] = None
    candidates: typing.List[RoutingCandidate] = pydantic.Field(description="Who was considered, best first: the explanation shown on the task.", default_factory=list)
    reoffer: bool = pydantic.Field(description="True when routing moves a task it routed before (an offer expired): the owner is exactly owner_id, even none.", default=False)

    
    class Meta:
        namespace = "wq.tasks"
        field_order = ['task_id', 'queue', 'owner_id', 'rule_id', 'rule_version', 'reason', 'candidates', 'reoffer']


class TaskStatusChanged(pydantic.BaseModel):
    """
    A task moved in the FHIR Task state machine (or its businessStatus changed). Keyed by task_id.
    """
    task_id: uuid.UUID
    from_status: str
    to_status: str
    actor_id: str
    task_type: str
    business_status: typing.Optional[str] = None
    reason: typing.Optional[str] = None
    owner_id: typing.Optional[str] = None

    
    class Meta:
        namespace = "wq.tasks"
        field_order = ['task_id', 'from_status', 'to_status', 'business_status', 'reason', 'actor_id', 'task_type', 'owner_id']


class TaskTimeLogged(pydantic.BaseModel):
    """
    Someone logged minutes of work on a task (billing counts CCM/PCM minutes from these). Keyed by task_id.
    """
    task_id: uuid.UUID
    entry_id: uuid.UUID
    user_id: str
    minutes: types.Int32
    action: str
    performed_on: datetime.date
    task_type: str
    patient_id: typing.Optional[str] = None

    
    class Meta:
        namespace = "wq.tasks"


class ClaimStatusChanged(pydantic.BaseModel):
    """
    A claim's adjudication status changed (X12 277 or a payer API); intake opens a task when it is denied or stuck.
    """
    source_id: str = pydantic.Field(description="The source system's id of this event's subject; replays carry the same id.")
    patient_id: str
    payer_id: str
    payer_name: str
    payer_class: str = pydantic.Field(description="commercial, medicare, medicaid, workers_comp, tricare, self_pay or other")
    claim_id: str
    status: str = pydantic.Field(description="accepted, pending, denied, paid, rejected ...")
    patient_name: typing.Optional[str] = None
    status_code: typing.Optional[str] = pydantic.Field(description="X12 claim status category and code, e.g. A7:21", default=None)
    amount: typing.Optional[types.condecimal(max_digits=12, decimal_places=2)] = None
    days_in_status: types.Int32 = 0
    source_module: str = "RCM"

    
    class Meta:
        namespace = "wq.upstream"
        field_order = ['source_id', 'patient_id', 'patient_name', 'payer_id', 'payer_name', 'payer_class', 'claim_id', 'status', 'status_code', 'amount', 'days_in_status', 'source_module']


class CosignRequested(pydantic.BaseModel):
    """
    A note or order needs a supervising physician's co-signature.
    """
    source_id: str = pydantic.Field(description="The source system's id of this event's subject; replays carry the same id.")
    patient_id: str
    document_type: str = pydantic.Field(description="progress_note, order, telephone_order, procedure_note ...")
    author_id: str
    supervising_physician_id: str
    patient_name: typing.Optional[str] = None
    encounter_date: typing.Optional[datetime.date] = None
    source_module: str = "Clinical"

    
    class Meta:
        namespace = "wq.upstream"
        field_order = ['source_id', 'patient_id', 'patient_name', 'document_type', 'author_id', 'supervising_physician_id', 'encounter_date', 'source_module']


class DenialPosted(pydantic.BaseModel):
    """
    A payer denied (all or part of) a claim; posted by the RCM module from an 835 remittance.
    """
    source_id: str = pydantic.Field(description="The RCM's id of this denial; replays carry the same id.")
    claim_id: str
    payer_id: str
    payer_name: str
    payer_class: str = pydantic.Field(description="commercial, medicare, medicaid, workers_comp, tricare, self_pay or other")
    patient_id: str
    amount: types.condecimal(max_digits=12, decimal_places=2)
    service_date: datetime.date
    denied_on: datetime.date
    carc_codes: typing.List[str] = pydantic.Field(description="Claim adjustment group and reason, e.g. CO-197.")
    patient_name: typing.Optional[str] = None
    rarc_codes: typing.List[str] = pydantic.Field(default_factory=list)
    cpt_codes: typing.List[str] = pydantic.Field(default_factory=list)
    icd_codes: typing.List[str] = pydantic.Field(default_factory=list)
    timely_filing_deadline: typing.Optional[datetime.date] = None
    source_module: str = "RCM"

    
    class Meta:
        namespace = "wq.upstream"
        field_order = ['source_id', 'claim_id', 'payer_id', 'payer_name', 'payer_class', 'patient_id', 'patient_name', 'amount', 'service_date', 'denied_on', 'carc_codes', 'rarc_codes', 'cpt_codes', 'icd_codes', 'timely_filing_deadline', 'source_module']


class PayerFollowUpDue(pydantic.BaseModel):
    """
    A claim's payer follow-up is due (no answer within the payer's window).
    """
    source_id: str = pydantic.Field(description="The source system's id of this event's subject; replays carry the same id.")
    patient_id: str
    payer_id: str
    payer_name: str
    payer_class: str = pydantic.Field(description="commercial, medicare, medicaid, workers_comp, tricare, self_pay or other")
    claim_id: str
    amount: types.condecimal(max_digits=12, decimal_places=2)
    submitted_on: datetime.date
    follow_up_on: datetime.date
    patient_name: typing.Optional[str] = None
    attempt: types.Int32 = 1
    timely_filing_deadline: typing.Optional[datetime.date] = None
    source_module: str = "RCM"

    
    class Meta:
        namespace = "wq.upstream"
        field_order = ['source_id', 'patient_id', 'patient_name', 'payer_id', 'payer_name', 'payer_class', 'claim_id', 'amount', 'submitted_on', 'follow_up_on', 'attempt', 'timely_filing_deadline', 'source_module']


class PriorAuthDecided(pydantic.BaseModel):
    """
    A payer decided (or pended) a prior-authorization request.
    """
    source_id: str = pydantic.Field(description="The source system's id of this event's subject; replays carry the same id.")
    patient_id: str
    payer_id: str
    payer_name: str
    payer_class: str = pydantic.Field(description="commercial, medicare, medicaid, workers_comp, tricare, self_pay or other")
    auth_request_id: str
    decision: str = pydantic.Field(description="approved, denied, partially_approved or pended")
    service_description: str
    patient_name: typing.Optional[str] = None
    cpt_codes: typing.List[str] = pydantic.Field(default_factory=list)
    icd_codes: typing.List[str] = pydantic.Field(default_factory=list)
    decided_on: typing.Optional[datetime.date] = None
    appeal_deadline: typing.Optional[datetime.date] = None
    denial_reason: typing.Optional[str] = None
    source_module: str = "RCM"

    
    class Meta:
        namespace = "wq.upstream"
        field_order = ['source_id', 'patient_id', 'patient_name', 'payer_id', 'payer_name', 'payer_class', 'auth_request_id', 'decision', 'service_description', 'cpt_codes', 'icd_codes', 'decided_on', 'appeal_deadline', 'denial_reason', 'source_module']


class ReferralAuthRequested(pydantic.BaseModel):
    """
    A referral to a specialist needs the payer's authorization.
    """
    source_id: str = pydantic.Field(description="The source system's id of this event's subject; replays carry the same id.")
    patient_id: str
    payer_id: str
    payer_name: str
    payer_class: str = pydantic.Field(description="commercial, medicare, medicaid, workers_comp, tricare, self_pay or other")
    referral_id: str
    specialty: str
    referred_to: str
    patient_name: typing.Optional[str] = None
    urgency: str = pydantic.Field(description="routine, urgent or stat", default="routine")
    icd_codes: typing.List[str] = pydantic.Field(default_factory=list)
    needed_by: typing.Optional[datetime.date] = None
    source_module: str = "Referrals"

    
    class Meta:
        namespace = "wq.upstream"
        field_order = ['source_id', 'patient_id', 'patient_name', 'payer_id', 'payer_name', 'payer_class', 'referral_id', 'specialty', 'referred_to', 'urgency', 'icd_codes', 'needed_by', 'source_module']


class RxRenewalRequested(pydantic.BaseModel):
    """
    A pharmacy asked to renew a prescription (eRx RxRenewalRequest).
    """
    source_id: str = pydantic.Field(description="The source system's id of this event's subject; replays carry the same id.")
    patient_id: str
    drug_name: str
    pharmacy_name: str
    patient_name: typing.Optional[str] = None
    ndc: typing.Optional[str] = None
    controlled_substance_schedule: typing.Optional[str] = pydantic.Field(description="II to V, or null", default=None)
    prescriber_id: typing.Optional[str] = None
    last_fill_date: typing.Optional[datetime.date] = None
    days_supply_left: types.Int32 = 0
    source_module: str = "eRx"

    
    class Meta:
        namespace = "wq.upstream"
        field_order = ['source_id', 'patient_id', 'patient_name', 'drug_name', 'ndc', 'controlled_substance_schedule', 'pharmacy_name', 'prescriber_id', 'last_fill_date', 'days_supply_left', 'source_module']


class TaskRequested(pydantic.BaseModel):
    """
    A service or a person asks for a task directly (billing's recurring CCM/PCM work, manual creation).
    """
    source_id: str = pydantic.Field(description="The source system's id of this event's subject; replays carry the same id.")
    task_type: str
    title: str
    patient_id: typing.Optional[str] = None
    patient_name: typing.Optional[str] = None
    description: typing.Optional[str] = None
    priority: typing.Optional[str] = None
    due_at: typing.Optional[types.DateTimeMicro] = None
    assignee_id: typing.Optional[str] = None
    details: typing.Dict[str, str] = pydantic.Field(default_factory=dict)
    source_module: str = "Billing"

    
    class Meta:
        namespace = "wq.upstream"
        field_order = ['source_id', 'patient_id', 'patient_name', 'task_type', 'title', 'description', 'priority', 'due_at', 'assignee_id', 'details', 'source_module']
