"""What a signed-in victim sees of their case, and their request for an update.

A discreet case's view carries nothing that names the crime type, the unit or the
department: no category, no unit, the contact without a rank, and only messages whose
words pass the same discreet check the message renderer applies.

The page promises what the policy's reply standard (the one `update_requested` starts)
gives: its window before the victim asks, the recorded obligation's day after. What the
page posts to the case is in service.victim_requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from messaging.discreet import discreet_problems
from messaging.rendering import SIGN_IN_CODE_TEMPLATE
from standards.case_state import CaseStatus
from standards.clock import LONDON, WindowUnit, require_aware
from standards.force import Force
from standards.obligations import AlertKind, ObligationState
from standards.policy import Policy, StandardRule, Trigger
from standards.victim_sign_in import update_request_key
from standards.vocabulary import DEFAULT_LANGUAGE, Channel, Language
from storage import models

# The policy's standard for regular updates to the victim (policies/met-pledge.toml).
VICTIM_UPDATE_STANDARD = "victim_update"
# The alert's "standard" column for a victim's request (not a standard of any policy).
UPDATE_REQUEST_STANDARD = "update_request"
_UNIT_WORDS = {
    WindowUnit.MINUTES: "minute",
    WindowUnit.HOURS: "hour",
    WindowUnit.DAYS: "day",
    WindowUnit.WEEKS: "week",
    WindowUnit.WORKING_DAYS: "working day",
}
# The victim's page in Welsh (for review by a translator, as the Welsh templates are):
# the days, the months, a window's unit (Welsh counts with the singular), morning and
# afternoon, and the channels. English is the page's words above and in `%A %B`.
_WELSH_DAYS = ("Dydd Llun", "Dydd Mawrth", "Dydd Mercher", "Dydd Iau", "Dydd Gwener",
               "Dydd Sadwrn", "Dydd Sul")  # fmt: skip
_WELSH_MONTHS = ("Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf",
                 "Awst", "Medi", "Hydref", "Tachwedd", "Rhagfyr")  # fmt: skip
_WELSH_UNIT_WORDS = {
    WindowUnit.MINUTES: "munud",
    WindowUnit.HOURS: "awr",
    WindowUnit.DAYS: "diwrnod",
    WindowUnit.WEEKS: "wythnos",
    WindowUnit.WORKING_DAYS: "diwrnod gwaith",
}
_CHANNEL_WORDS = {
    Language.ENGLISH: {Channel.SMS: "Text message", Channel.EMAIL: "Email"},
    Language.WELSH: {Channel.SMS: "Neges destun", Channel.EMAIL: "E-bost"},
}


def _day_and_month(local: datetime, language: str) -> str:
    if language == Language.WELSH:
        return f"{_WELSH_DAYS[local.weekday()]} {local.day} {_WELSH_MONTHS[local.month - 1]}"
    return f"{local:%A} {local.day} {local:%B}"


def london_date(instant: datetime, language: str = DEFAULT_LANGUAGE) -> str:
    """ "Wednesday 2 December 2026" ("Dydd Mercher 2 Rhagfyr 2026"): the day in
    Europe/London, as victims read dates."""
    local = require_aware(instant, "instant").astimezone(LONDON)
    return f"{_day_and_month(local, language)} {local.year}"


def london_time(instant: datetime, language: str = DEFAULT_LANGUAGE) -> str:
    """ "2:05pm" ("2:05yp"), in Europe/London."""
    local = require_aware(instant, "instant").astimezone(LONDON)
    hour = local.hour % 12 or 12
    morning, afternoon = ("yb", "yp") if language == Language.WELSH else ("am", "pm")
    return f"{hour}:{local:%M}{morning if local.hour < 12 else afternoon}"


def reply_rule(policy: Policy, category: str) -> StandardRule | None:
    """The policy's standard a victim's request for an update starts, if it has one."""
    rules = policy.started_by(Trigger.UPDATE_REQUESTED, category)
    return rules[0] if rules else None


def window_words(amount: int, unit: WindowUnit, language: str = DEFAULT_LANGUAGE) -> str:
    """ "2 working days", "24 hours" ("2 diwrnod gwaith"): a window as the victim reads it."""
    if language == Language.WELSH:
        return f"{amount} {_WELSH_UNIT_WORDS[WindowUnit(unit)]}"
    word = _UNIT_WORDS[WindowUnit(unit)]
    return f"{amount} {word}" if amount == 1 else f"{amount} {word}s"


def promised_day(due: datetime, language: str = DEFAULT_LANGUAGE) -> str:
    """The last London day a deadline allows: one at local midnight ends the day before."""
    local = require_aware(due, "due").astimezone(LONDON)
    if local.time() == time(0):
        local -= timedelta(microseconds=1)
    return _day_and_month(local, language)


@dataclass(frozen=True)
class ReplyPromise:
    """What the page promises about a request for an update."""

    # "2 working days": how long a reply may take, from the policy.
    within: str
    # "Tuesday 8 December": the day the open request's reply is due by, if one is open.
    by: str | None


@dataclass(frozen=True)
class Preferences:
    """The victim's contact choice as their page shows it: no address is shown."""

    channel: str
    no_texts: bool
    safe_from: str
    safe_until: str
    has_email: bool
    has_phone: bool


@dataclass(frozen=True)
class MessageShown:
    sent_on: str
    channel: str
    subject: str | None
    # None: the words are withheld on a discreet page (they would say what it is about).
    text: str | None


@dataclass(frozen=True)
class VictimCaseView:
    reference: str
    discreet: bool
    open: bool
    closed_on: str | None
    # None on a discreet page.
    crime_type: str | None
    unit_name: str | None
    officer_name: str | None
    officer_contact: str | None
    next_update_due: str | None
    messages: list[MessageShown]
    update_requested_today: bool
    # None when the case's policy has no standard for replying to a request.
    reply: ReplyPromise | None
    preferences: Preferences
    # The victim's language (standards.vocabulary.Language): their pages' default.
    language: str = DEFAULT_LANGUAGE


def revealing_terms(
    case: models.Case, force: Force, force_name: str, unit_name_pattern: str
) -> list[str]:
    """Words a discreet page must not contain: the crime type, the unit, the department."""
    borough = force.display_name(case.borough)
    return [
        case.category,
        case.category.replace("_", " "),
        case.borough,
        borough,
        unit_name_pattern.format(borough=borough),
        force_name,
    ]


# The crime types of the shipped policies in Welsh (for translator review with the
# templates, docs/welsh.md); another category reads as its English words.
_WELSH_CRIME_TYPES = {
    "general": "Trosedd",
    "burglary": "Bwrgleriaeth",
    "domestic_abuse": "Cam-drin domestig",
    "sexual_offence": "Trosedd rywiol",
    "hate_crime": "Trosedd casineb",
    "serious_assault": "Ymosodiad difrifol",
    "road_traffic_collision": "Gwrthdrawiad traffig ffordd",
    "terrorism": "Terfysgaeth",
    "trafficking": "Masnachu pobl",
    "attempted_murder": "Ceisio llofruddio",
    "kidnap": "Herwgipio",
    "false_imprisonment": "Carcharu ar gam",
    "arson_with_intent": "Llosgi bwriadol",
    "bereaved_relatives": "Profedigaeth drwy drosedd",
    "feedback": "Adborth",
}


def crime_type_text(category: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A category as the victim reads it: "Domestic abuse" ("Cam-drin domestig")."""
    if language == Language.WELSH and category in _WELSH_CRIME_TYPES:
        return _WELSH_CRIME_TYPES[category]
    return category.replace("_", " ").capitalize()


def read_victim_case(
    sessions: sessionmaker[Session],
    case_id: int,
    now: datetime,
    force: Force,
    force_name: str,
    unit_name_pattern: str,
    policy: Policy,
    language: str | None = None,
) -> VictimCaseView | None:
    """The victim's view of their case; `policy` is the one new cases open under (the
    reply's promise comes from it only if the case runs under that very version). Its
    dates and words are in `language`, else in the victim's."""
    with sessions() as session:
        case = session.get(models.Case, case_id)
        if case is None or case.victim is None:
            return None
        language = language or case.victim.language
        discreet = case.victim.discreet
        terms = revealing_terms(case, force, force_name, unit_name_pattern)
        due = session.scalar(
            select(models.Obligation.due_at)
            .where(
                models.Obligation.case_id == case.id,
                models.Obligation.standard == VICTIM_UPDATE_STANDARD,
                models.Obligation.state == ObligationState.PENDING,
            )
            .order_by(models.Obligation.due_at)
            .limit(1)
        )
        rows = session.scalars(
            select(models.OutboxMessage)
            .where(
                models.OutboxMessage.case_id == case.id,
                models.OutboxMessage.template != SIGN_IN_CODE_TEMPLATE,
            )
            .order_by(models.OutboxMessage.created_at.desc(), models.OutboxMessage.id.desc())
        )
        messages = [_shown(row, discreet, terms, language) for row in rows]
        requested = session.scalar(
            select(models.Alert.id).where(
                models.Alert.case_id == case.id,
                models.Alert.kind == AlertKind.UPDATE_REQUESTED,
                models.Alert.obligation_key == update_request_key(now),
            )
        )
        unit = unit_name_pattern.format(borough=force.display_name(case.borough))
        reply = _reply_promise(session, case, policy, language)
        victim = case.victim
        preferences = Preferences(
            channel=victim.preferred_channel,
            no_texts=Channel.SMS not in (victim.allowed_channels or [victim.preferred_channel]),
            safe_from=_clock(victim.safe_hours_start),
            safe_until=_clock(victim.safe_hours_end),
            has_email=bool(victim.email),
            has_phone=bool(victim.phone),
        )
        return VictimCaseView(
            reference=case.reference,
            discreet=discreet,
            open=case.status == CaseStatus.OPEN,
            closed_on=london_date(case.closed_at, language) if case.closed_at else None,
            crime_type=None if discreet else crime_type_text(case.category, language),
            unit_name=None if discreet else unit,
            officer_name=_discreetly(case.officer_name, discreet, terms),
            officer_contact=_discreetly(case.officer_contact, discreet, terms),
            next_update_due=london_date(due, language) if due is not None else None,
            messages=messages,
            update_requested_today=requested is not None,
            reply=reply,
            preferences=preferences,
            language=victim.language,
        )


def _reply_promise(
    session: Session, case: models.Case, policy: Policy, language: str
) -> ReplyPromise | None:
    """The reply standard's window, and the day a pending reply is due by; None if the
    case does not run under `policy` or the policy has no reply standard."""
    if (case.policy_id, case.policy_version) != (policy.id, policy.version):
        return None
    rule = reply_rule(policy, case.category)
    if rule is None:
        return None
    due = session.scalar(
        select(models.Obligation.due_at)
        .where(
            models.Obligation.case_id == case.id,
            models.Obligation.standard == rule.id,
            # A breached reply is the VFU's to explain: the page promises no day gone by.
            models.Obligation.state == ObligationState.PENDING,
        )
        .order_by(models.Obligation.due_at.desc())
        .limit(1)
    )
    enhanced = policy.has_enhanced_rights(case.category, case.vulnerable)
    return ReplyPromise(
        within=window_words(policy.window_for(rule, enhanced), rule.unit, language),
        by=promised_day(due, language) if due is not None else None,
    )


def _clock(value: time | None) -> str:
    return "" if value is None else f"{value:%H:%M}"


def _discreetly(value: str | None, discreet: bool, terms: list[str]) -> str | None:
    if value is None or (discreet and discreet_problems(value, terms)):
        return None
    return value


def _shown(
    row: models.OutboxMessage, discreet: bool, terms: list[str], language: str
) -> MessageShown:
    sent = row.sent_at or row.created_at
    subject: str | None = row.subject
    text: str | None = row.body
    if discreet and (discreet_problems(row.body, terms) or discreet_problems(subject or "", terms)):
        # Sent before the case was marked discreet, say: the page must not repeat it.
        subject, text = None, None
    at = "am" if language == Language.WELSH else "at"
    channels = _CHANNEL_WORDS.get(Language(language), _CHANNEL_WORDS[DEFAULT_LANGUAGE])
    return MessageShown(
        sent_on=f"{london_date(sent, language)} {at} {london_time(sent, language)}",
        channel=channels[Channel(row.channel)],
        subject=subject,
        text=text,
    )
