"""Generated from schemas/avro by `python -m common.codegen`. Do not edit."""
from dataclasses_avroschema import types
import datetime
import pydantic
import typing
import uuid



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

    
    class Meta:
        namespace = "wq.tasks"
        field_order = ['task_id', 'queue', 'owner_id', 'rule_id', 'rule_version', 'reason']


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
