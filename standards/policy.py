"""Service standards as data: the policy file's schema, loader and look-ups.

The policy types are plain dataclasses so a case workflow can carry the exact
policy it started under in its own state; pydantic validates them at load time.
"""

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import Field, TypeAdapter

from standards.clock import Nation, WindowUnit
from standards.datafile import (
    DataFileError,
    InvalidData,
    Location,
    Problem,
    describe_problems,
    read_toml,
    suggestion,
    validate_strictly,
)
from standards.datafile import dotted_location as dotted_location
from standards.datafile import locate_line as locate_line
from standards.vocabulary import DEFAULT_LANGUAGE, Language

StandardId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Fraction = Annotated[float, Field(gt=0, lt=1)]


class Trigger(StrEnum):
    """What starts an obligation: the case opening or an event posted to it."""

    CASE_OPENED = "case_opened"
    ARREST = "arrest"
    CHARGE = "charge"
    COURT_OUTCOME = "court_outcome"
    CLOSED = "closed"
    REOPENED = "reopened"
    OFFICER_ASSIGNED = "officer_assigned"
    # The victim asked for an update (their page, or by phone through the API).
    UPDATE_REQUESTED = "update_requested"
    # A member of staff sends the victim an update now (the case page, or the API).
    UPDATE_SENT_ON_REQUEST = "update_sent_on_request"
    # The Victims' Code (2021): the events its police-owned rights start on.
    SUSPECT_INTERVIEWED = "suspect_interviewed"
    RELEASED_WITHOUT_CHARGE = "released_without_charge"
    RELEASED_ON_BAIL = "released_on_bail"
    RELEASED_UNDER_INVESTIGATION = "released_under_investigation"
    BAIL_CONDITIONS_CHANGED = "bail_conditions_changed"
    BAIL_CANCELLED = "bail_cancelled"
    NOT_INVESTIGATED = "not_investigated"
    NOT_PROSECUTED = "not_prosecuted"
    VRR_REQUESTED = "vrr_requested"
    VRR_DECIDED = "vrr_decided"
    WITNESS_STATEMENT_TAKEN = "witness_statement_taken"


class OnCaseChange(StrEnum):
    KEEP = "keep"
    CANCEL = "cancel"


MATCH_TOKEN = re.compile(
    r"^(contact|any_contact|review|update_delivered|message:[a-z][a-z0-9_]*(\+reason)?"
    r"|event:[a-z][a-z0-9_]*)$"
)
# The token a recorded event of type NAME gives to what it meets (`event:NAME`).
EVENT_TOKEN = "event:"


# The met_by tokens of a recorded contact: `contact` is met by a contact naming the
# standard (or naming none), `any_contact` by any contact at all (the periodic update).
CONTACT_TOKEN: Final = "contact"
ANY_CONTACT_TOKEN: Final = "any_contact"


@dataclass(frozen=True)
class StandardRule:
    id: StandardId
    title: str
    applies_to: list[str]
    starts_on: list[Trigger]
    window: Annotated[int, Field(gt=0)]
    unit: WindowUnit
    met_by: list[str]
    enhanced_window: Annotated[int, Field(gt=0)] | None = None
    warning_at: Fraction | None = None
    escalate_after_hours: Annotated[float, Field(gt=0)] | None = None
    recurs: bool = False
    victim_interval: bool = False
    on_close: OnCaseChange = OnCaseChange.KEEP
    on_reopen: OnCaseChange = OnCaseChange.KEEP
    # At most one open at a time: a start while one is still open starts nothing (a victim
    # asking again before the first request is answered is still owed the one reply).
    one_open: bool = False
    auto_update: bool = False
    auto_update_at: Fraction = 0.9
    description: str = ""
    # The share (per cent) of obligations the force means to meet on time; the reports
    # draw it on their charts. None: no target set.
    on_time_target_percent: Annotated[float, Field(gt=0, le=100)] | None = None
    # Categories or groups where the standard needs the victim's explicit consent
    # (Victims' Code Right 4): without it the obligation is not applicable.
    consent_for: list[str] = field(default_factory=list)
    # The victim may decline it (a referral to support services): it then does not apply.
    declinable: bool = False

    def met_by_token(self, token: str) -> bool:
        return token in self.met_by

    def met_by_named_contact(self) -> bool:
        """Whether a contact recorded naming this standard meets it."""
        return self.met_by_token(CONTACT_TOKEN)

    def met_by_contact(self, named: bool) -> bool:
        """Whether a recorded contact meets it: any contact does for `any_contact`, and a
        contact naming the standard (`named`) does for `contact` too."""
        return self.met_by_token(ANY_CONTACT_TOKEN) or (named and self.met_by_named_contact())


@dataclass(frozen=True)
class MessageRule:
    on: Trigger
    template: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    applies_to: list[str]


@dataclass(frozen=True)
class Measure:
    """One figure of a named set of measures (e.g. the Ministry of Justice's quarterly
    compliance measures, `moj`): the on-time share of the standards it names, together."""

    report: StandardId
    id: StandardId
    title: str
    standards: list[str]


@dataclass(frozen=True)
class Policy:
    id: StandardId | Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]
    version: Annotated[int, Field(ge=1)]
    title: str
    contact_number: Annotated[str, Field(min_length=1)]
    categories: list[str]
    standards: list[StandardRule]
    nation: Nation = Nation.ENGLAND_AND_WALES
    warning_at: Fraction = 0.75
    escalate_after_hours: Annotated[float, Field(gt=0)] = 24.0
    reopen_window_days: Annotated[int, Field(ge=0)] = 365
    groups: dict[str, list[str]] = field(default_factory=dict)
    enhanced_rights: list[str] = field(default_factory=list)
    discreet_by_default: list[str] = field(default_factory=list)
    messages: list[MessageRule] = field(default_factory=list)
    # Victims' Right to Review: how many calendar months after a decision not to
    # prosecute a request is accepted; None where the policy has no such right.
    review_request_months: Annotated[int, Field(ge=1)] | None = None
    # The monitor's reasons for Enhanced Rights other than the case's category
    # (Victims' Code: persistently targeted, vulnerable or intimidated victims).
    enhanced_bases: list[str] = field(default_factory=list)
    # Sets of measures the reports can give (`pledge report --measures NAME`).
    measures: list[Measure] = field(default_factory=list)
    # The languages a victim's messages and pages may be in (Victims' Code Right 1); a
    # case's language must be one of them. English is every template's fallback.
    languages: list[Language] = field(default_factory=lambda: [DEFAULT_LANGUAGE])

    # Look-ups used by the case workflow; all pure.

    def standard(self, standard_id: str) -> StandardRule:
        rule: StandardRule = self._looked_up(("standard", standard_id), self._standard)
        return rule

    def _standard(self, standard_id: str) -> StandardRule:
        for rule in self.standards:
            if rule.id == standard_id:
                return rule
        raise KeyError(standard_id)

    def has_standard(self, standard_id: str) -> bool:
        return any(rule.id == standard_id for rule in self.standards)

    def standard_a_contact_names(self, standard_id: str) -> str | None:
        """The standard a contact recorded for an obligation of `standard_id` names: that
        standard when a contact naming it meets it; None when any contact does (the
        periodic update), since the case refuses a contact naming a standard that a named
        contact does not meet."""
        if self.has_standard(standard_id) and self.standard(standard_id).met_by_named_contact():
            return standard_id
        return None

    def answers_request(self, standard_id: str) -> bool:
        """Whether an obligation of this standard is the reply owed to the victim's own
        request for an update (a standard their request starts)."""
        return (
            self.has_standard(standard_id)
            and Trigger.UPDATE_REQUESTED in self.standard(standard_id).starts_on
        )

    def covers(self, selectors: list[str], category: str) -> bool:
        return any(s == category or category in self.groups.get(s, []) for s in selectors)

    def standards_for(self, category: str) -> list[StandardRule]:
        return list(self._looked_up(("standards_for", category), self._standards_for))

    def started_by(self, trigger: Trigger, category: str) -> list[StandardRule]:
        return list(self._looked_up(("started_by", trigger, category), self._started_by))

    def message_for(self, trigger: Trigger, category: str) -> str | None:
        key = ("message_for", trigger, category)
        template: str | None = self._looked_up(key, self._message_for)
        return template

    def _looked_up(self, key: tuple[str, ...], find: Callable[..., Any]) -> Any:
        """A look-up's answer, worked out once per policy (a policy never changes; a
        rehearsal asks the same few questions for every case). Kept beside the fields, so
        equality, copies for workflows and `asdict` are unchanged."""
        answers: dict[tuple[str, ...], Any] = self.__dict__.setdefault("_answers", {})
        if key not in answers:
            answers[key] = find(*key[1:])
        return answers[key]

    def _standards_for(self, category: str) -> tuple[StandardRule, ...]:
        return tuple(rule for rule in self.standards if self.covers(rule.applies_to, category))

    def _started_by(self, trigger: Trigger, category: str) -> tuple[StandardRule, ...]:
        return tuple(rule for rule in self.standards_for(category) if trigger in rule.starts_on)

    def _message_for(self, trigger: Trigger, category: str) -> str | None:
        for rule in self.messages:
            if rule.on == trigger and self.covers(rule.applies_to, category):
                return rule.template
        return None

    def has_enhanced_rights(self, category: str, vulnerable: bool) -> bool:
        return vulnerable or category in self.enhanced_rights

    def window_for(self, rule: StandardRule, enhanced: bool) -> int:
        if enhanced and rule.enhanced_window is not None:
            return rule.enhanced_window
        return rule.window

    def warning_fraction(self, rule: StandardRule) -> float:
        return rule.warning_at if rule.warning_at is not None else self.warning_at

    def escalation_hours(self, rule: StandardRule) -> float:
        if rule.escalate_after_hours is not None:
            return rule.escalate_after_hours
        return self.escalate_after_hours

    def on_time_targets(self) -> dict[str, float]:
        """Each standard's on-time target as a fraction (0 to 1), for those that set one."""
        return {
            rule.id: rule.on_time_target_percent / 100
            for rule in self.standards
            if rule.on_time_target_percent is not None
        }

    def discreet_by_default_for(self, category: str) -> bool:
        return category in self.discreet_by_default

    def measures_in(self, report: str) -> list[Measure]:
        return [measure for measure in self.measures if measure.report == report]

    def offers_language(self, language: str) -> bool:
        return language in self.languages

    def language_refusal(self, language: str) -> str | None:
        """Why a victim's language is refused on this policy's cases, or None."""
        if self.offers_language(language):
            return None
        offered = ", ".join(code.value for code in self.languages)
        return f"language {language!r} is not offered by policy {self.id}; offered: {offered}"


def reference_problems(policy: Policy) -> list[Problem]:
    """Checks that span fields: names that must refer to something defined elsewhere."""
    problems: list[Problem] = []
    known = set(policy.categories)
    for name, members in policy.groups.items():
        if name in known:
            problems.append((("groups", name), f"group {name!r} has the name of a category"))
        unknown = [m for m in members if m not in known]
        if unknown:
            problems.append((("groups", name), f"names unknown categories {unknown}"))
    selectors = known | set(policy.groups)
    seen: set[str] = set()
    for i, rule in enumerate(policy.standards):
        if rule.id in seen:
            problems.append((("standards", i, "id"), f"standard {rule.id!r} is defined twice"))
        seen.add(rule.id)
        problems += _selector_problems(("standards", i, "applies_to"), rule.applies_to, selectors)
        if rule.consent_for:
            problems += _selector_problems(
                ("standards", i, "consent_for"), rule.consent_for, selectors
            )
        for token in rule.met_by:
            if not MATCH_TOKEN.match(token):
                problems.append(
                    (
                        ("standards", i, "met_by"),
                        f"{token!r} is not one of contact, any_contact, review, "
                        "update_delivered, message:NAME, message:NAME+reason or event:NAME",
                    )
                )
        if rule.auto_update and not rule.recurs:
            problems.append(
                (("standards", i, "auto_update"), "auto_update needs a recurring standard")
            )
    for i, message in enumerate(policy.messages):
        problems += _selector_problems(("messages", i, "applies_to"), message.applies_to, selectors)
    problems += _measure_problems(policy, seen)
    problems += _language_problems(policy)
    for label, names in (
        ("enhanced_rights", policy.enhanced_rights),
        ("discreet_by_default", policy.discreet_by_default),
    ):
        unknown = [n for n in names if n not in known]
        if unknown:
            problems.append(((label,), f"names unknown categories {unknown}"))
    return problems


def _measure_problems(policy: Policy, standards: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for i, measure in enumerate(policy.measures):
        if (measure.report, measure.id) in seen:
            problems.append(
                (
                    ("measures", i, "id"),
                    f"measure {measure.id!r} is defined twice in {measure.report}",
                )
            )
        seen.add((measure.report, measure.id))
        unknown = [s for s in measure.standards if s not in standards]
        if not measure.standards or unknown:
            problems.append(
                (
                    ("measures", i, "standards"),
                    f"must name standards of the policy; unknown: {unknown}",
                )
            )
    return problems


def _language_problems(policy: Policy) -> list[Problem]:
    codes = [language.value for language in policy.languages]
    if DEFAULT_LANGUAGE not in codes:
        return [
            (
                ("languages",),
                f"must include {DEFAULT_LANGUAGE.value!r}: English is every message's fallback",
            )
        ]
    twice = sorted({code for code in codes if codes.count(code) > 1})
    if twice:
        return [(("languages",), f"names {', '.join(twice)} more than once")]
    return []


def _selector_problems(location: Location, selectors: list[str], known: set[str]) -> list[Problem]:
    if not selectors:
        return [(location, "is empty: name categories or groups")]
    unknown = [s for s in selectors if s not in known]
    if unknown:
        return [(location, f"names unknown categories or groups {unknown}; known: {sorted(known)}")]
    return []


class PolicyError(DataFileError):
    """A policy file that cannot be used; the message names file, line and field."""


_POLICY_ADAPTER = TypeAdapter(Policy)


def template_problems(policy: Policy, message_templates: Collection[str]) -> list[Problem]:
    """Every message the policy names (to send, or in `met_by`) must have its templates.

    `message_templates` are the names with every form (email and SMS) on disk; the
    caller that owns the template directory lists them, so this stays free of I/O.
    """
    known = sorted(message_templates)
    problems: list[Problem] = []

    def check(location: Location, name: str) -> None:
        if name not in message_templates:
            problems.append(
                (
                    location,
                    f"no message template {name!r}: it needs messages/{name}.email.j2 and "
                    f"messages/{name}.sms.j2 in the template directory{suggestion(name, known)}",
                )
            )

    for location, name in _named_templates(policy):
        check(location, name)
    return problems


def _named_templates(policy: Policy) -> list[tuple[Location, str]]:
    """Each message template the policy names, where it names it (to send, or in `met_by`)."""
    named: list[tuple[Location, str]] = [
        (("messages", i, "template"), message.template) for i, message in enumerate(policy.messages)
    ]
    for i, rule in enumerate(policy.standards):
        for token in rule.met_by:
            if token.startswith("message:"):
                named.append((("standards", i, "met_by"), message_of_token(token)))
    return named


def message_of_token(token: str) -> str:
    """The template a `message:NAME` (or `message:NAME+reason`) token names."""
    return token.removeprefix("message:").split("+")[0]


def named_templates(policy: Policy) -> list[str]:
    """The message templates the policy sends or names, each once, in the order named."""
    return list(dict.fromkeys(name for _, name in _named_templates(policy)))


def parse_policy(
    source: str, origin: str = "<policy>", message_templates: Collection[str] | None = None
) -> Policy:
    """The policy in TOML `source`; with `message_templates`, the templates it names are
    checked too."""
    raw = read_toml(source, origin, PolicyError)
    try:
        policy = validate_strictly(_POLICY_ADAPTER, Policy, raw)
    except InvalidData as invalid:
        raise PolicyError(
            describe_problems(source, origin, "invalid policy", invalid.problems)
        ) from invalid
    problems = reference_problems(policy)
    if message_templates is not None:
        problems += template_problems(policy, message_templates)
    if problems:
        raise PolicyError(describe_problems(source, origin, "invalid policy", problems))
    return policy


def load_policy(path: Path, message_templates: Collection[str] | None = None) -> Policy:
    return parse_policy(path.read_text(encoding="utf-8"), str(path), message_templates)


POLICY_ID = re.compile(r"[a-z][a-z0-9_-]*")


def policy_path(policy_dir: Path, policy_id: str) -> Path:
    if not POLICY_ID.fullmatch(policy_id):
        raise PolicyError(f"policy id {policy_id!r} must be lower-case letters, digits, - or _")
    path = policy_dir / f"{policy_id}.toml"
    if not path.is_file():
        # Other data files beside the policies (the force's `*.force.toml`) have a dot
        # in their stem, which no policy id has.
        stems = (p.stem for p in policy_dir.glob("*.toml"))
        available = sorted(stem for stem in stems if POLICY_ID.fullmatch(stem))
        raise PolicyError(f"no policy {policy_id!r} in {policy_dir}; available: {available}")
    return path
