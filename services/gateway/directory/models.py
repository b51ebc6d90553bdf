"""People of an org as the API shows them, what managers send to add or change one, and
sign-in."""
from __future__ import annotations

from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from common import limits
from services.gateway import domain

NO_NUL = r"^[^\x00]*$"


def _email(value: str) -> str:
    """A well-formed address, lower-cased. Deliverability is not looked up, and the
    reserved ``.test`` domain is accepted (every demo and test account uses one); other
    special-use domains (.invalid, .localhost, .local, ...) are refused."""
    try:
        return validate_email(value, check_deliverability=False,
                              test_environment=True).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


Email = Annotated[str, Field(min_length=3, max_length=254, pattern=NO_NUL),
                  AfterValidator(_email)]
Tag = Annotated[str, Field(min_length=1, max_length=60, pattern=NO_NUL)]


class Login(BaseModel):
    email: str = Field(min_length=3, max_length=200, pattern=NO_NUL)
    password: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    org: limits.text(200, min_length=1) | None = Field(None, description=(
        "the org to sign in to; without it, the oldest of the address's accounts (up to "
        "three) that the password opens"))


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    org_id: str
    email: str
    name: str
    roles: list[str]
    skills: list[str]
    active: bool = True
    capacity: int = 40
    away: bool = False
    phone: str | None = None


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[Literal[domain.ROLES]] | None = Field(None, min_length=1)  # type: ignore[valid-type]
    skills: list[Tag] | None = Field(None, max_length=50)
    capacity: int | None = Field(None, ge=0, le=500)
    away: bool | None = None
    active: bool | None = None
    phone: str | None = Field(None, pattern=r"^\+[1-9][0-9]{6,14}$",
                              description="E.164, for SLA alerts by SMS")


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserOut


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email
    name: str = Field(min_length=1, max_length=120, pattern=NO_NUL)
    password: str = Field(min_length=10, max_length=200, pattern=NO_NUL)
    roles: list[Literal[domain.ROLES]] = Field(min_length=1)  # type: ignore[valid-type]
    skills: list[Tag] = Field([], max_length=50)
