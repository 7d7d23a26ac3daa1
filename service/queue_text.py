"""How the VFU worklist and the case page word an obligation: what would meet it, how
late it is or the time left."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from standards.policy import Policy, StandardRule

# What each `met_by` token of a policy means, for the people who have to meet it.
_MEANING: Final = {
    "contact": "a recorded contact with the victim about this",
    "any_contact": "any recorded contact with the victim",
    "review": "a supervisor's review",
    "update_delivered": "an update given to the victim outside the monitor",
}


def met_by_text(token: str) -> str:
    """One `met_by` token in words: "the arrest message, once delivered"."""
    if token in _MEANING:
        return _MEANING[token]
    name, _, reason = token.removeprefix("message:").partition("+")
    words = name.replace("_", " ")
    return f"the {words} message{' with a reason' if reason else ''}, once delivered"


def what_meets(rule: StandardRule) -> list[str]:
    """Everything that would meet an obligation of this standard, in words."""
    return [met_by_text(token) for token in rule.met_by]


def met_by_contact(rule: StandardRule) -> bool:
    """Whether recording a contact naming this standard meets it."""
    return rule.met_by_contact(named=True)


def standard_rule(policy: Policy, standard: str) -> StandardRule | None:
    """The policy's rule for a stored standard; None for one the policy no longer has."""
    return policy.standard(standard) if policy.has_standard(standard) else None


def duration_text(span: timedelta) -> str:
    """A span to the minute in the largest two units: "2 days 3 hours", "45 minutes"."""
    minutes = int(abs(span).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    shown = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n]
    return " ".join(shown[:2]) or "less than a minute"


def urgency_text(time_left: timedelta) -> str:
    """How late, or the time left: "3 hours 5 minutes late", "due in 40 minutes"."""
    if time_left <= timedelta(0):
        return f"{duration_text(time_left)} late"
    return f"due in {duration_text(time_left)}"


__all__ = [
    "duration_text",
    "met_by_contact",
    "met_by_text",
    "standard_rule",
    "urgency_text",
    "what_meets",
]
