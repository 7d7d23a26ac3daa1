"""What the queue and the case page share: who may see a case, its URL, how instants and
states read, and the choices of the contact and explanation forms."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from jinja2 import pass_context
from jinja2.runtime import Context
from pydantic import TypeAdapter, ValidationError

from messaging.display import minute_text
from service.case_actions import LABELS, done_text
from service.cases import Reference
from service.queue import QUEUE_STATE_LABELS, urgency_text
from standards.events import NOTE_MAX_LENGTH
from standards.force import Force, UnknownUnit
from standards.obligations import BreachReason, ObligationState
from standards.staff import StaffRole, StaffUser, can_see
from standards.vocabulary import MessageStatus, language_name, message_language
from web.pages.rendering import templates

CASES_PATH: Final = "/cases"
_REFERENCE: Final = TypeAdapter(Reference)

# How a contact was made, as the VFU records it (the event's `method` detail).
CONTACT_METHODS: Final = {
    "phone": "Phone call",
    "in_person": "In person",
    "video": "Video call",
    "email": "Email",
    "text_message": "Text message",
    "letter": "Letter",
}
BREACH_REASONS: Final = {
    BreachReason.VICTIM_UNREACHABLE: "The victim could not be reached",
    BreachReason.VICTIM_DECLINED: "The victim declined contact",
    BreachReason.OFFICER_UNAVAILABLE: "No officer was available",
    BreachReason.AWAITING_INFORMATION: "Waiting for information",
    BreachReason.SYSTEM_FAULT: "A system fault",
    BreachReason.OTHER: "Another reason (say what happened)",
}
# The longest explanation a VFU may write (it is stored with the obligation).
EXPLANATION_MAX_LENGTH: Final = 2000
# The longest court outcome or closure reason: the victim is told it in a message.
MESSAGE_FACT_MAX_LENGTH: Final = 500

STATE_LABELS: Final = {
    ObligationState.PENDING: "Pending",
    ObligationState.MET: "Met",
    ObligationState.MET_LATE: "Met late",
    ObligationState.BREACHED: "Breached",
    ObligationState.CANCELLED: "Cancelled",
}
STATE_TAGS: Final = {
    ObligationState.PENDING: "tag--yellow",
    ObligationState.MET: "tag--green",
    ObligationState.MET_LATE: "tag--grey",
    ObligationState.BREACHED: "tag--red",
    ObligationState.CANCELLED: "tag--grey",
}
MESSAGE_TAGS: Final = {
    MessageStatus.QUEUED: "tag--grey",
    MessageStatus.SENT: "",
    MessageStatus.DELIVERED: "tag--green",
    MessageStatus.UNDELIVERED: "tag--red",
    MessageStatus.FAILED: "tag--red",
}


def is_reference(text: str) -> bool:
    """Whether `text` could be a crime reference (service.cases.Reference)."""
    try:
        _REFERENCE.validate_python(text)
    except ValidationError:
        return False
    return True


def notice_for(done: str | None, reference: str | None) -> str | None:
    """The confirmation a page shows after a redirect; only for what this site redirects
    with (a reference that could be one), so a crafted link cannot put words on the page."""
    if reference is None or not is_reference(reference):
        return None
    return done_text(done, reference)


def case_url(reference: str) -> str:
    """The case page. References hold only letters, digits and / _ . - (service.cases), all
    safe in a path, so the slashes stay as they are (the route takes the rest of the path)."""
    return f"{CASES_PATH}/{reference}"


def unit_of(force: Force, stored_borough: str) -> str:
    """The unit id of a case's borough column (an id, or a name as older cases hold it)."""
    try:
        return force.resolve_unit(stored_borough).id
    except UnknownUnit:
        return stored_borough


def may_see_case(user: StaffUser, force: Force, stored_borough: str) -> bool:
    return can_see(user, unit_of(force, stored_borough))


def may_see_victim(user: StaffUser, force: Force, stored_borough: str) -> bool:
    """The victim's contact profile is for the VFU and the manager of the case's borough:
    not a force-wide manager, who oversees figures rather than people."""
    unit = unit_of(force, stored_borough)
    return user.role in (StaffRole.VFU, StaffRole.MANAGER) and user.borough == unit


def london(instant: datetime | None) -> str:
    return minute_text(instant)


def _urgency(time_left: timedelta) -> str:
    return urgency_text(time_left)


@pass_context
def _borough_name(context: Context, stored: str) -> str:
    force: Force | None = context.get("force")
    return force.display_name(unit_of(force, stored)) if force is not None else stored


def _words(code: str) -> str:
    """An identifier for people to read: "domestic_abuse" -> "Domestic abuse"."""
    text = code.replace("_", " ")
    return text[:1].upper() + text[1:]


templates.env.filters.update(
    london=london,
    urgency=_urgency,
    borough_name=_borough_name,
    words=_words,
    language_name=language_name,
)
templates.env.globals.update(
    case_url=case_url,
    message_language=message_language,
    state_labels=STATE_LABELS,
    state_tags=STATE_TAGS,
    message_tags=MESSAGE_TAGS,
    queue_state_labels=QUEUE_STATE_LABELS,
    contact_methods=CONTACT_METHODS,
    breach_reasons=BREACH_REASONS,
    explanation_max_length=EXPLANATION_MAX_LENGTH,
    note_max_length=NOTE_MAX_LENGTH,
    message_fact_max_length=MESSAGE_FACT_MAX_LENGTH,
    action_labels=LABELS,
)
