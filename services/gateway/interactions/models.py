"""What the API shows of a payer interaction and what staff send to start one or to say
what came of it."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common import limits


class InteractionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    task_id: uuid.UUID | None
    revision: int
    channel: Literal["voice", "sms", "email"]
    direction: Literal["outbound", "inbound"]
    status: str
    payer_id: str | None
    user_id: str | None
    started_at: datetime
    ended_at: datetime | None
    duration_s: int | None
    summary: str | None
    refusal: str | None
    reference_number: str | None
    claim_status: str | None
    promised_payment_date: date | None
    missing_information: str | None
    next_step: str | None
    follow_up_date: date | None
    recording_url: str | None
    outcome_by: str | None
    outcome_at: datetime | None
    note_id: uuid.UUID | None
    follow_up_task_id: uuid.UUID | None


class CallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_number: limits.text(32) | None = Field(
        None, description="E.164; none: the payer's provider-services line (payer directory)")


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["sms", "email"]
    to_address: limits.text(254) | None = Field(
        None, description="E.164 number or e-mail address; none: the payer directory's")
    subject: limits.text(300) | None = Field(None, description="e-mail only")
    body: limits.text(20_000, min_length=1)

    @model_validator(mode="after")
    def _fits(self) -> MessageIn:
        if self.channel == "sms" and len(self.body) > 1600:
            raise ValueError("body: an SMS is at most 1,600 characters")
        if self.channel == "sms" and self.subject:
            raise ValueError("subject: an SMS has no subject")
        return self


class OutcomeIn(BaseModel):
    """What came of an interaction (the prompt after a call); at least one field."""
    model_config = ConfigDict(extra="forbid")
    reference_number: limits.text(64) | None = None
    claim_status: limits.text(300) | None = None
    promised_payment_date: limits.Date | None = None
    missing_information: limits.text(2_000) | None = None
    next_step: limits.text(300) | None = None
    follow_up_date: limits.Date | None = Field(
        None, description="a follow-up sub-task is created, due that day")

    @model_validator(mode="after")
    def _something(self) -> OutcomeIn:
        if not any(v not in (None, "") for v in self.model_dump().values()):
            raise ValueError("say at least one thing that came of it (a reference number, "
                             "the claim status, a next step, ...)")
        return self


class AttachIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task_id: uuid.UUID


class TemplateOut(BaseModel):
    id: str
    label: str
    channel: Literal["sms", "email"]
    subject: str | None
    body: str


class Requested(BaseModel):
    id: uuid.UUID
    status: str
