"""What a case and an event must be as they arrive: the checks at the edge.

Apart from the database and the workflows (service/cases.py), so a rehearsal can check
a scenario's cases without loading either.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from service.contacts import normalise_email, normalise_phone, parse_safe_hours
from standards.events import EventType
from standards.force import Force, Unit, UnknownUnit
from standards.policy import Policy, dotted_location
from standards.vocabulary import DEFAULT_LANGUAGE, LANGUAGE_NAMES, Channel, Language
from storage.limits import ACTOR_LENGTH, EVENT_ID_LENGTH


def _says_what_is_accepted(
    accepted: str, refusal: str = "string_pattern_mismatch"
) -> WrapValidator:
    """Replace pydantic's "should match pattern '^...$'" (or, for `refusal="enum"`, its
    "Input should be 'a' or 'b'") with what a caller may send; the pattern or the
    choices stay in the JSON schema."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as error:
            if any(e["type"] == refusal for e in error.errors()):
                raise PydanticCustomError("format", accepted) from error
            raise

    return WrapValidator(validate)


LANGUAGES_ACCEPTED = "a language is one of " + ", ".join(
    f"{code.value} ({LANGUAGE_NAMES[code]})" for code in Language
)

Reference = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9/_.-]{2,31}$"),
    _says_what_is_accepted(
        "a crime reference is 3 to 32 letters, digits and / _ . - starting with a letter or "
        "digit, e.g. 01/123456/26"
    ),
]
EventId = Annotated[
    str,
    Field(pattern=rf"^[A-Za-z0-9][A-Za-z0-9/_.:-]{{0,{EVENT_ID_LENGTH - 1}}}$"),
    _says_what_is_accepted(
        f"an event id is 1 to {EVENT_ID_LENGTH} letters, digits and / _ . : - "
        "starting with a letter or digit, e.g. crs-000123"
    ),
]


FRIENDLY_ERRORS = {
    "timezone_aware": "a naive date-time is not accepted: give an ISO 8601 instant with "
    "an offset, e.g. 2026-03-27T17:30:00+00:00",
    "extra_forbidden": "is not a field here (check the spelling)",
}


def describe_validation_error(error: ValidationError) -> list[str]:
    """One line per problem: the dotted field path, then what was wrong and what is accepted."""
    lines = []
    for problem in error.errors():
        path = dotted_location(tuple(problem["loc"]))
        message = FRIENDLY_ERRORS.get(problem["type"], problem["msg"])
        lines.append(f"{path or '(input)'}: {message}")
    return lines


class CaseError(ValueError):
    """A request about a case that was refused; nothing was changed."""


class VictimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: str | None = None
    phone: str | None = None
    preferred_channel: Channel = Channel.EMAIL
    allowed_channels: list[Channel] | None = None
    safe_hours: str | None = None
    discreet: bool | None = None
    do_not_contact: bool = False
    # The language of their messages and pages (Victims' Code Right 1), one the policy
    # offers (`check_language`).
    language: Annotated[Language, _says_what_is_accepted(LANGUAGES_ACCEPTED, "enum")] = (
        DEFAULT_LANGUAGE
    )

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else normalise_email(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else normalise_phone(value)

    @field_validator("safe_hours")
    @classmethod
    def _safe_hours(cls, value: str | None) -> str | None:
        if value is not None:
            parse_safe_hours(value)
        return value

    @model_validator(mode="after")
    def _reachable(self) -> VictimIn:
        channels = self.allowed_channels or [self.preferred_channel]
        if self.preferred_channel not in channels:
            raise ValueError(
                f"preferred_channel {self.preferred_channel} is not in allowed_channels "
                f"{[channel.value for channel in channels]}"
            )
        if self.preferred_channel == Channel.SMS and not self.phone:
            raise ValueError("preferred_channel is sms but no phone number was given")
        if self.preferred_channel == Channel.EMAIL and not self.email:
            raise ValueError("preferred_channel is email but no email address was given")
        return self

    def safe_hours_window(self) -> tuple[time | None, time | None]:
        if self.safe_hours is None:
            return None, None
        return parse_safe_hours(self.safe_hours)


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: Reference
    category: str
    reported_at: AwareDatetime
    # The unit by id or display name, any case; open_case keeps the force's canonical id.
    borough: Annotated[str, Field(min_length=1, max_length=64)]
    vulnerable: bool = False
    victim: VictimIn


class EventIn(BaseModel):
    """An event from the crime recording system or a VFU, as it arrives."""

    model_config = ConfigDict(extra="forbid")

    reference: Reference
    type: EventType
    at: AwareDatetime
    standard: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    # Who recorded it; kept in the database with the event, never sent to the workflow.
    actor: Annotated[str, Field(min_length=1, max_length=ACTOR_LENGTH)] = "crime recording system"
    # The caller's idempotency key: the same event posted again with it acts once.
    event_id: EventId | None = None


def check_category(policy: Policy, category: str) -> None:
    if category not in policy.categories:
        raise CaseError(f"unknown category {category!r}; accepted: {', '.join(policy.categories)}")


def check_language(policy: Policy, language: str) -> None:
    """A victim's language must be one the policy offers (its `languages`)."""
    refusal = policy.language_refusal(language)
    if refusal is not None:
        raise CaseError(refusal)


def check_unit(force: Force, borough: str) -> Unit:
    """The force's unit named by `borough` (id or name, any case), or a CaseError."""
    try:
        return force.resolve_unit(borough)
    except UnknownUnit as error:
        raise CaseError(str(error)) from error
