"""Reading the case page's action forms: each field checked, each problem one line naming
the field, and the event details the form stands for.

A case-wide action's fields are named `{action}-{name}` (e.g. `assign-officer_name`), an
obligation's `{name}-{obligation id}`, so the error summary links to the one field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import String
from starlette.datastructures import FormData

from service.case_actions import CaseAction
from standards.events import NOTE, NOTE_MAX_LENGTH
from standards.vocabulary import Language
from storage import models
from web.pages.case_views import CONTACT_METHODS, MESSAGE_FACT_MAX_LENGTH
from web.pages.rendering import FieldError

Details = dict[str, Any]
Reader = Callable[[FormData, Details, list[FieldError]], None]
# The victim's answer to "do you want updates?", as the preferences form gives it.
WANTS_UPDATES: Final = {"yes": False, "no": True}


def text_of(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def case_field(action: CaseAction, name: str) -> str:
    return f"{action.value}-{name}"


def text_problem(field: str, label: str, text: str, limit: int) -> FieldError | None:
    """Why a piece of free text is refused (too long, not text), or None."""
    if len(text) > limit:
        return FieldError(field, f"{label} must be {limit} characters or fewer")
    if "\x00" in text:
        return FieldError(field, f"{label} has a character that is not text")
    return None


def read_note(form: FormData, field: str, details: Details, errors: list[FieldError]) -> None:
    """The note a form may carry (what was said or done): stored, never sent to the case."""
    note = text_of(form, field)
    problem = text_problem(field, "The note", note, NOTE_MAX_LENGTH)
    if problem is not None:
        errors.append(problem)
    elif note:
        details[NOTE] = note


def _column_limit(name: str) -> int:
    column = models.Case.__table__.c[name].type
    assert isinstance(column, String) and column.length is not None
    return column.length


def _required_text(
    form: FormData,
    action: CaseAction,
    name: str,
    label: str,
    limit: int,
    errors: list[FieldError],
    *,
    missing: str | None,
) -> str:
    field = case_field(action, name)
    text = text_of(form, field)
    problem = text_problem(field, label, text, limit)
    if problem is not None:
        errors.append(problem)
    elif not text and missing is not None:
        errors.append(FieldError(field, missing))
    return text


def _assign(form: FormData, details: Details, errors: list[FieldError]) -> None:
    name = _required_text(
        form,
        CaseAction.ASSIGN,
        "officer_name",
        "The officer's name",
        _column_limit("officer_name"),
        errors,
        missing="Enter the name of the officer dealing with the case",
    )
    contact = _required_text(
        form,
        CaseAction.ASSIGN,
        "officer_contact",
        "How to reach them",
        _column_limit("officer_contact"),
        errors,
        missing=None,
    )
    if name:
        details["officer_name"] = name
    if contact:
        details["officer_contact"] = contact


def _court_outcome(form: FormData, details: Details, errors: list[FieldError]) -> None:
    outcome = _required_text(
        form,
        CaseAction.COURT_OUTCOME,
        "outcome",
        "The outcome",
        MESSAGE_FACT_MAX_LENGTH,
        errors,
        missing="Enter the outcome the court gave (the victim is told it)",
    )
    if outcome:
        details["outcome"] = outcome


def _reason(action: CaseAction, missing: str | None) -> Reader:
    def read(form: FormData, details: Details, errors: list[FieldError]) -> None:
        reason = _required_text(
            form, action, "reason", "The reason", MESSAGE_FACT_MAX_LENGTH, errors, missing=missing
        )
        if reason:
            details["reason"] = reason

    return read


def _preferences(form: FormData, details: Details, errors: list[FieldError]) -> None:
    interval_field = case_field(CaseAction.PREFERENCES, "update_interval_days")
    wants_field = case_field(CaseAction.PREFERENCES, "updates")
    language_field = case_field(CaseAction.PREFERENCES, "language")
    interval = text_of(form, interval_field)
    wants = text_of(form, wants_field)
    language = text_of(form, language_field)
    if interval:
        if not interval.isdigit() or not 1 <= int(interval) <= 365:
            errors.append(
                FieldError(interval_field, "Enter the number of days between updates, like 14")
            )
        else:
            details["update_interval_days"] = int(interval)
    if wants:
        if wants not in WANTS_UPDATES:
            errors.append(FieldError(wants_field, "Select whether the victim wants updates"))
        else:
            details["no_updates"] = WANTS_UPDATES[wants]
    if language:
        if language not in {code.value for code in Language}:
            errors.append(FieldError(language_field, "Select the victim's language"))
        else:
            # The case refuses a language its policy does not offer, in one line.
            details["language"] = language
    # The victim's own preferences pages may add more here (channel, safe hours, opting
    # out): each a detail PREFERENCES_CHANGED carries, read and checked like these two.
    if not interval and not wants and not language and not errors:
        errors.append(
            FieldError(
                interval_field,
                "Enter how often the victim wants updates, say whether they want them, "
                "or choose their language",
            )
        )


def _update(form: FormData, details: Details, errors: list[FieldError]) -> None:
    field = case_field(CaseAction.UPDATE, "channel")
    how = text_of(form, field)
    if how not in CONTACT_METHODS:
        errors.append(FieldError(field, "Select how the update was given"))
    else:
        details["channel"] = how


# The box the "send the victim an update now" form is confirmed by.
SEND_UPDATE_CONFIRMED: Final = "yes"


def _send_update(form: FormData, _details: Details, errors: list[FieldError]) -> None:
    field = case_field(CaseAction.SEND_UPDATE, "confirm")
    if text_of(form, field) != SEND_UPDATE_CONFIRMED:
        errors.append(FieldError(field, "Confirm that the update should go to the victim now"))


def _nothing_more(_form: FormData, _details: Details, _errors: list[FieldError]) -> None:
    return None


_READERS: Final[dict[CaseAction, Reader]] = {
    CaseAction.NOTE: _nothing_more,
    CaseAction.REVIEW: _nothing_more,
    CaseAction.ASSIGN: _assign,
    CaseAction.ARREST: _nothing_more,
    CaseAction.CHARGE: _nothing_more,
    CaseAction.COURT_OUTCOME: _court_outcome,
    CaseAction.CLOSE: _reason(
        CaseAction.CLOSE, "Enter why the case is closed (the victim is told it)"
    ),
    CaseAction.REOPEN: _reason(CaseAction.REOPEN, None),
    CaseAction.PREFERENCES: _preferences,
    CaseAction.UPDATE: _update,
    CaseAction.SEND_UPDATE: _send_update,
}
CASE_WIDE: Final = frozenset(_READERS)


def first_field(action: CaseAction) -> str:
    """The field a refusal of the whole form points at."""
    names = {
        CaseAction.ASSIGN: "officer_name",
        CaseAction.COURT_OUTCOME: "outcome",
        CaseAction.CLOSE: "reason",
        CaseAction.REOPEN: "reason",
        CaseAction.PREFERENCES: "update_interval_days",
        CaseAction.UPDATE: "channel",
        CaseAction.SEND_UPDATE: "confirm",
    }
    return case_field(action, names.get(action, "note"))


def case_action_details(action: CaseAction, form: FormData) -> tuple[Details, list[FieldError]]:
    """The details of a case-wide action's event, or what was wrong with its form."""
    details: Details = {}
    errors: list[FieldError] = []
    _READERS[action](form, details, errors)
    field = case_field(action, "note")
    read_note(form, field, details, errors)
    if action == CaseAction.NOTE and NOTE not in details and not errors:
        errors.append(FieldError(field, "Enter the note"))
    return details, errors


__all__ = [
    "CASE_WIDE",
    "case_action_details",
    "case_field",
    "first_field",
    "read_note",
    "text_of",
    "text_problem",
]
