"""What a member of staff may record on a case from its page, and why not when they may not.

Each action is one event of the case book (standards.events), posted through the same use
case as the API (service.cases.post_event). Who may record what follows the roles
(standards.staff): anyone who may see the case records what was done on it; only those
who may see the victim's contact profile (the VFU and the manager of the case's borough)
change what the victim is sent. The case itself refuses what does not fit it (a closed
case, an event its category's policy has nothing for); the page says so before anyone
tries, in one line, with the same rules (standards.case_reading.applies_to).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from service.case_page import CasePage, open_standards
from standards.case_reading import applies_to
from standards.contact import contact_blocked, profile_of
from standards.events import ALLOWED_WHEN_CLOSED, EventType, refused_for_victim
from standards.policy import Policy
from storage.enums import CaseStatus


class CaseAction(StrEnum):
    """An action on the case page; its value is the last part of the form's path."""

    CONTACT = "contact"
    EXPLANATION = "explanation"
    REVIEW = "review"
    ASSIGN = "assign"
    ARREST = "arrest"
    CHARGE = "charge"
    COURT_OUTCOME = "court-outcome"
    CLOSE = "close"
    REOPEN = "reopen"
    PREFERENCES = "preferences"
    UPDATE = "update"
    SEND_UPDATE = "send-update"
    NOTE = "note"


EVENT_OF: Final = {
    CaseAction.CONTACT: EventType.CONTACT_RECORDED,
    CaseAction.EXPLANATION: EventType.BREACH_EXPLAINED,
    CaseAction.REVIEW: EventType.REVIEW_RECORDED,
    CaseAction.ASSIGN: EventType.OFFICER_ASSIGNED,
    CaseAction.ARREST: EventType.ARREST,
    CaseAction.CHARGE: EventType.CHARGE,
    CaseAction.COURT_OUTCOME: EventType.COURT_OUTCOME,
    CaseAction.CLOSE: EventType.CLOSED,
    CaseAction.REOPEN: EventType.REOPENED,
    CaseAction.PREFERENCES: EventType.PREFERENCES_CHANGED,
    CaseAction.UPDATE: EventType.UPDATE_DELIVERED,
    CaseAction.SEND_UPDATE: EventType.UPDATE_SENT_ON_REQUEST,
    CaseAction.NOTE: EventType.NOTE_ADDED,
}

# What each action is called: its heading, its button, and its line on the page.
LABELS: Final = {
    CaseAction.CONTACT: "Record a contact",
    CaseAction.EXPLANATION: "Explain the breach",
    CaseAction.REVIEW: "Record the supervisor review",
    CaseAction.ASSIGN: "Assign an officer",
    CaseAction.ARREST: "Record an arrest",
    CaseAction.CHARGE: "Record a charge",
    CaseAction.COURT_OUTCOME: "Record the court outcome",
    CaseAction.CLOSE: "Close the case",
    CaseAction.REOPEN: "Reopen the case",
    CaseAction.PREFERENCES: "Change the victim's update preferences",
    CaseAction.UPDATE: "Record an update given to the victim",
    CaseAction.SEND_UPDATE: "Send the victim an update now",
    CaseAction.NOTE: "Add a note",
}

# What the page confirms after the redirect.
DONE: Final = {
    CaseAction.CONTACT: "Contact recorded",
    CaseAction.EXPLANATION: "Breach explained",
    CaseAction.REVIEW: "Supervisor review recorded",
    CaseAction.ASSIGN: "Officer assigned",
    CaseAction.ARREST: "Arrest recorded",
    CaseAction.CHARGE: "Charge recorded",
    CaseAction.COURT_OUTCOME: "Court outcome recorded",
    CaseAction.CLOSE: "Case closed",
    CaseAction.REOPEN: "Case reopened",
    CaseAction.PREFERENCES: "Update preferences changed",
    CaseAction.UPDATE: "Update to the victim recorded",
    CaseAction.SEND_UPDATE: (
        "Update sent to the victim's safe channel (outside their safe hours it waits "
        "for them; its delivery is under Messages to the victim)"
    ),
    CaseAction.NOTE: "Note added",
}

# What only those who may see the victim's contact profile record.
VICTIM_FACING: Final = frozenset(
    {CaseAction.PREFERENCES, CaseAction.UPDATE, CaseAction.SEND_UPDATE}
)
# The actions on the case as a whole, in the order the page offers them.
CASE_ACTIONS: Final = (
    CaseAction.NOTE,
    CaseAction.REVIEW,
    CaseAction.ASSIGN,
    CaseAction.ARREST,
    CaseAction.CHARGE,
    CaseAction.COURT_OUTCOME,
    CaseAction.SEND_UPDATE,
    CaseAction.UPDATE,
    CaseAction.PREFERENCES,
    CaseAction.CLOSE,
    CaseAction.REOPEN,
)


@dataclass(frozen=True)
class ActionContext:
    """What decides whether an action is offered: the case and the reader."""

    status: str
    category: str
    may_see_victim: bool
    # What the victim's record and the case say of sending the victim something now
    # (standards.events.refused_for_victim): why nothing can reach them (None: it can),
    # whether they asked for no updates, and whether a request of theirs is still owed.
    contact_blocked: str | None = None
    updates_paused: bool = False
    update_asked: bool = False


def page_situation(page: CasePage, may_see_victim: bool, policy: Policy) -> ActionContext:
    """What decides the actions on a case as its page read it: its state, the reader, the
    victim's record (when the reader may see it; None when erased) and whether a request
    of the victim's is still owed."""
    victim = page.victim
    return ActionContext(
        status=page.case.status,
        category=page.case.category,
        may_see_victim=may_see_victim,
        contact_blocked=contact_blocked(None if victim is None else profile_of(victim)),
        updates_paused=victim is not None and victim.updates_paused,
        update_asked=any(policy.answers_request(s) for s in open_standards(page)),
    )


def role_refusal(action: CaseAction, may_see_victim: bool) -> str | None:
    """Why this reader's role may not record `action` (a 403), whatever the case's state."""
    if action in VICTIM_FACING and not may_see_victim:
        return (
            "Only the Victim Focus Unit and the manager of this case's borough "
            "record what the victim is sent"
        )
    return None


def refusal(action: CaseAction, context: ActionContext, policy: Policy) -> str | None:
    """Why `action` cannot be recorded on this case by this reader, in one line; None when
    it can. The case refuses the same (its book decides); this says so before a post."""
    event = EVENT_OF[action]
    closed = context.status == CaseStatus.CLOSED
    if (role := role_refusal(action, context.may_see_victim)) is not None:
        return role
    if closed and event not in ALLOWED_WHEN_CLOSED:
        return "The case is closed: reopen it first"
    if not closed and event == EventType.REOPENED:
        return "The case is open: only a closed case can be reopened"
    if not applies_to(policy, event, context.category):
        category = context.category.replace("_", " ")
        return f"The policy has nothing for this on a {category} case"
    victim = refused_for_victim(
        event,
        contact_blocked=context.contact_blocked,
        updates_paused=context.updates_paused,
        update_asked=context.update_asked,
    )
    if victim is not None:
        return victim[:1].upper() + victim[1:]
    return None


def done_text(action: str | None, reference: str) -> str | None:
    """The confirmation for a redirect that names a known action; None for anything else."""
    if action is None:
        return None
    try:
        known = CaseAction(action)
    except ValueError:
        return None
    return f"{DONE[known]} on case {reference}"


__all__ = [
    "CASE_ACTIONS",
    "DONE",
    "EVENT_OF",
    "LABELS",
    "VICTIM_FACING",
    "ActionContext",
    "CaseAction",
    "done_text",
    "page_situation",
    "refusal",
    "role_refusal",
]
