"""Safe contact: which channels a message may use, and when.

Pure rules over a victim's contact profile. Nothing automatic goes to a
do-not-contact victim, and nothing is sent outside the victim's safe hours.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Protocol

from standards.clock import LONDON, require_aware
from standards.vocabulary import Channel


@dataclass(frozen=True)
class ContactProfile:
    preferred_channel: str
    allowed_channels: list[str] = field(default_factory=list)
    has_email: bool = False
    has_phone: bool = False
    sms_opted_out: bool = False
    do_not_contact: bool = False
    # Local (Europe/London) wall-clock times; a window may wrap past midnight.
    safe_hours_start: time | None = None
    safe_hours_end: time | None = None


@dataclass(frozen=True)
class ChannelPlan:
    channels: list[str]
    blocked: str | None = None
    wait_until: datetime | None = None


def usable_channels(profile: ContactProfile, excluded: list[str]) -> list[str]:
    """Allowed channels, the preferred one first, that have an address and no opt-out."""
    allowed = profile.allowed_channels or [profile.preferred_channel]
    ordered = [profile.preferred_channel] + [c for c in allowed if c != profile.preferred_channel]
    usable = []
    for channel in ordered:
        if channel not in allowed or channel in excluded or channel in usable:
            continue
        if channel == Channel.SMS and (not profile.has_phone or profile.sms_opted_out):
            continue
        if channel == Channel.EMAIL and not profile.has_email:
            continue
        usable.append(channel)
    return usable


def within_safe_hours(profile: ContactProfile, at: datetime) -> bool:
    start, end = profile.safe_hours_start, profile.safe_hours_end
    if start is None or end is None or start == end:
        return True
    local = require_aware(at, "at").astimezone(LONDON).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_safe_instant(profile: ContactProfile, at: datetime) -> datetime:
    """The next instant at or after `at` when the victim's safe hours open."""
    if within_safe_hours(profile, at):
        return at
    assert profile.safe_hours_start is not None
    local = require_aware(at, "at").astimezone(LONDON)
    for days in (0, 1):
        day = local.date() + timedelta(days=days)
        opening = datetime.combine(day, profile.safe_hours_start, tzinfo=LONDON)
        if opening > local:
            return opening.astimezone(require_aware(at, "at").tzinfo)
    raise AssertionError("safe hours open within a day")


DO_NOT_CONTACT = "the victim asked not to be contacted automatically"
NO_CHANNEL_LEFT = "no allowed channel is left for this victim"
# A victim whose contact details were erased (retention): nothing can reach them.
NO_CONTACT_DETAILS = "the victim's contact details are no longer held"


def contact_blocked(profile: ContactProfile | None, excluded: Sequence[str] = ()) -> str | None:
    """Why nothing can be sent to this victim at all (whatever the hour), or None: they
    asked not to be contacted, or no allowed channel is left (no address, text messages
    opted out), or their record is gone (`profile` None)."""
    if profile is None:
        return NO_CONTACT_DETAILS
    if profile.do_not_contact:
        return DO_NOT_CONTACT
    if not usable_channels(profile, list(excluded)):
        return NO_CHANNEL_LEFT
    return None


def plan_channels(profile: ContactProfile, at: datetime, excluded: list[str]) -> ChannelPlan:
    blocked = contact_blocked(profile, excluded)
    if blocked is not None:
        return ChannelPlan([], blocked=blocked)
    channels = usable_channels(profile, excluded)
    if not within_safe_hours(profile, at):
        return ChannelPlan(channels, wait_until=next_safe_instant(profile, at))
    return ChannelPlan(channels)


class VictimContacts(Protocol):
    """What a victim's record says of how the victim may be reached (the victim's row)."""

    @property
    def preferred_channel(self) -> str: ...
    @property
    def allowed_channels(self) -> Sequence[str] | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def sms_opted_out(self) -> bool: ...
    @property
    def do_not_contact(self) -> bool: ...
    @property
    def safe_hours_start(self) -> time | None: ...
    @property
    def safe_hours_end(self) -> time | None: ...


def profile_of(victim: VictimContacts) -> ContactProfile:
    """The contact profile of a victim's record: every sender plans its channels from it."""
    return ContactProfile(
        preferred_channel=victim.preferred_channel,
        allowed_channels=list(victim.allowed_channels or []),
        has_email=bool(victim.email),
        has_phone=bool(victim.phone),
        sms_opted_out=victim.sms_opted_out,
        do_not_contact=victim.do_not_contact,
        safe_hours_start=victim.safe_hours_start,
        safe_hours_end=victim.safe_hours_end,
    )


# -- the victim's own choice, from their page -----------------------------------------

_CLOCK_TIME = re.compile(r"([01]?\d|2[0-3])[:.]([0-5]\d)")


@dataclass(frozen=True)
class ContactChoice:
    """How the victim says they may be reached: written to their record, read by every send."""

    preferred_channel: str
    allowed_channels: list[str]
    safe_hours_start: time | None
    safe_hours_end: time | None


@dataclass(frozen=True)
class ChoiceProblem:
    """A field of the preferences form that cannot be used, and what to do instead: in
    English (`message`), and as a `code` a page words in the reader's language."""

    field: str
    message: str
    code: str


def parse_clock_time(text: str) -> time | None:
    """ "09:30" or "9.30" as a time of day (24-hour clock); None if it is not one."""
    match = _CLOCK_TIME.fullmatch(text.strip())
    if match is None:
        return None
    return time(int(match.group(1)), int(match.group(2)))


def contact_choice(
    channel: str,
    no_texts: bool,
    safe_from: str,
    safe_until: str,
    has_email: bool,
    has_phone: bool,
    contact_number: str,
) -> ContactChoice | list[ChoiceProblem]:
    """The victim's choice from their form, or every field that is wrong with it.

    Only a channel we hold an address for can be chosen; "do not text me" takes text
    messages out of the allowed channels altogether. Safe hours are both given (a window
    that may wrap past midnight) or both left empty (any time).
    """
    problems: list[ChoiceProblem] = []
    addresses = {Channel.EMAIL: has_email, Channel.SMS: has_phone and not no_texts}
    if channel not in (Channel.EMAIL, Channel.SMS):
        problems.append(ChoiceProblem("channel", "Choose how we should contact you", "no_channel"))
    elif channel == Channel.SMS and no_texts:
        problems.append(
            ChoiceProblem(
                "channel", "Choose email, or untick 'Do not send me text messages'", "sms_refused"
            )
        )
    elif not addresses[Channel(channel)]:
        what = "an email address" if channel == Channel.EMAIL else "a mobile number"
        problems.append(
            ChoiceProblem(
                "channel",
                f"We do not have {what} for you. Choose another way, or call "
                f"{contact_number} to give us one",
                f"no_{channel}_address",
            )
        )
    start, end = parse_clock_time(safe_from), parse_clock_time(safe_until)
    for name, text, parsed in (("safe_from", safe_from, start), ("safe_until", safe_until, end)):
        if text.strip() and parsed is None:
            problems.append(
                ChoiceProblem(
                    name,
                    "Enter a time on the 24-hour clock, for example 09:00 or 18:30",
                    "not_a_time",
                )
            )
    if not problems:
        if (start is None) != (end is None):
            missing = "safe_until" if end is None else "safe_from"
            problems.append(
                ChoiceProblem(
                    missing,
                    "Enter both times, or leave both empty if any time is safe",
                    "one_time",
                )
            )
        elif start is not None and start == end:
            problems.append(
                ChoiceProblem(
                    "safe_until", "The safe time must end at a different time", "same_times"
                )
            )
    if problems:
        return problems
    preferred = Channel(channel)
    others = [c for c in (Channel.EMAIL, Channel.SMS) if c != preferred and addresses[c]]
    return ContactChoice(
        preferred_channel=preferred,
        allowed_channels=[preferred, *others],
        safe_hours_start=start,
        safe_hours_end=end,
    )
