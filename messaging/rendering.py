"""Renders victim messages and staff alerts from the Jinja2 templates in `templates/`.

Templates are data a force may edit, so the renderer does not trust them: every victim
message must name the reference and a contact number (a sign-in code only the number: it
must not name the reference), and a discreet message must not reveal what it is about.
A template that breaks either rule fails loudly here rather than reaching someone's phone.

SMS length policy (two segments at most, `MAX_SMS_SEGMENTS`):

1. The message is rendered as written. Typographic punctuation (curly quotes, dashes,
   ellipses, non-breaking spaces) is always replaced by its plain equivalent, because one
   curly apostrophe would otherwise switch the whole message to UCS-2 (70 characters a
   segment instead of 160) for no gain.
2. If it is too long, letters outside the GSM-7 alphabet in the case's free-text values
   are folded to their base letters ("Zoë Łukasiewicz" -> "Zoe Lukasiewicz"): a message
   in UCS-2 fits fewer than half the characters, and an approximate spelling still tells
   the person who is dealing with their case. The email keeps the exact spelling.
3. If it is still too long (a name in a script that cannot be folded, say), optional
   details are left out whole, values that need UCS-2 first, until it fits; the templates
   word each absent detail as "call us". They are listed in `RenderedMessage.omitted_fields`
   so the caller can tell that, say, a closure reason was not in the SMS. Text is never cut
   mid-way: a cut court outcome or phone number could mislead.
4. If even the shortest rendering does not fit (only with unrealistic values such as a
   very long force name in a non-Latin script), it is returned whole: three segments cost
   more, but cutting could lose the reference or the number.

Languages: a message for a victim whose language is not English is rendered from
`messages/<language>/<name>.<channel>.j2` when the template directory has it, else from
the English `messages/<name>.<channel>.j2`. The rendered message says which language it
is in (`RenderedMessage.language`) and, when it fell back, which it was wanted in
(`fallback_from`); the outbox keeps both. Every language's templates are held to the
same rules (the reference, the number, discreet wording).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import jinja2

from messaging.discreet import forbidden_words_in, terms_named_in
from messaging.sms_text import fold_to_gsm, is_gsm, plain_sms_text, sms_segments
from messaging.template_sets import interval_in_language
from messaging.template_sets import message_template_names as message_template_names
from messaging.template_sets import message_template_path as message_template_path
from messaging.template_sets import missing_translations as missing_translations
from standards.vocabulary import DEFAULT_LANGUAGE, Channel

DEFAULT_TEMPLATE_DIR: Path = Path(__file__).resolve().parents[1] / "templates"

MESSAGE_TEMPLATES: tuple[str, ...] = (
    "acknowledgement",
    "feedback_acknowledgement",
    "officer_assigned",
    "traffic_unit_contact",
    "arrest",
    "charge",
    "court_outcome",
    "closure",
    "reopened",
    "periodic_update",
)

# A victim's one-time code for their "track my report" page; sent by the web app, not by a
# case's policy, so it is not among MESSAGE_TEMPLATES.
SIGN_IN_CODE_TEMPLATE = "sign_in_code"

ALERT_KINDS: tuple[str, ...] = (
    "warning",
    "breach",
    "escalation",
    "delivery_failed",
    "manual_contact_required",
    "update_requested",
)
ALERT_RECIPIENT_ROLES: tuple[str, ...] = ("vfu", "manager")
ALERT_TEMPLATE = "alert"

MAX_SMS_SEGMENTS = 2

_LAYOUT = "_layout.html.j2"
_TEMPLATE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*")
_EXTRA_BLANK_LINES = re.compile(r"\n{3,}")

# Left out of an SMS in this order (after any that need UCS-2) when it is too long.
_OPTIONAL_SMS_FIELDS: tuple[str, ...] = (
    "victim_name",
    "unit_name",
    "officer_name",
    "reason",
    "outcome",
)


class TemplateError(RuntimeError):
    """An unknown template, or one that failed to render or broke a message rule."""


@dataclass(frozen=True)
class MessageContext:
    reference: str
    contact_number: str
    force_name: str
    victim_name: str
    category: str
    borough: str
    discreet: bool
    officer_name: str | None = None
    officer_contact: str | None = None
    unit_name: str | None = None
    reason: str | None = None
    outcome: str | None = None
    update_interval_days: int | None = None
    # Only for the sign-in code message (SIGN_IN_CODE_TEMPLATE).
    sign_in_code: str | None = None
    code_lifetime_minutes: int | None = None
    # The victim's language (standards.vocabulary.Language): which template set is used.
    language: str = DEFAULT_LANGUAGE


@dataclass(frozen=True)
class AlertContext:
    kind: str
    reference: str
    borough: str
    standard: str
    standard_title: str
    due_at: str | None
    detail: str
    recipient_role: str


@dataclass(frozen=True)
class RenderedMessage:
    template: str
    channel: Channel
    subject: str | None
    text: str
    html: str | None
    # Optional details left out of an SMS to keep it within two segments (see module doc).
    omitted_fields: tuple[str, ...] = ()
    # The language it is written in; and `fallback_from`, the victim's language when that
    # had no template for it (it was rendered in English instead), else None.
    language: str = DEFAULT_LANGUAGE
    fallback_from: str | None = None


def _plain_email_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _EXTRA_BLANK_LINES.sub("\n\n", "\n".join(lines))


def _one_line(text: str) -> str:
    # A subject with a line break would let a value inject mail headers.
    return " ".join(text.split())


def _sentence(value: object) -> str:
    """A free-text value closed with a full stop unless it already ends a sentence."""
    text = str(value).strip()
    if not text or text[-1] in ".!?":
        return text
    return f"{text}."


def _revealing_terms(context: MessageContext) -> list[str]:
    terms = [context.category, context.category.replace("_", " "), context.borough]
    terms += [value for value in (context.force_name, context.unit_name) if value]
    return [term for term in terms if term.strip()]


def _check_discreet(name: str, context: MessageContext, *texts: str) -> None:
    for text in texts:
        found = forbidden_words_in(text)
        if found:
            raise TemplateError(f"{name}: discreet wording must not say {', '.join(found)}")
        for term in terms_named_in(text, _revealing_terms(context)):
            raise TemplateError(f"{name}: discreet wording must not name {term!r}")


def _check_contains_reference_and_number(name: str, context: MessageContext, text: str) -> None:
    flat = " ".join(text.split())
    reference = " ".join(context.reference.split())
    if context.sign_in_code is not None:
        # A sign-in code reaches whoever has the phone: with the reference beside it, the
        # message would be all anyone needs to find the case. It gives the number only.
        if reference in flat:
            raise TemplateError(f"{name}: a sign-in code must not give the reference")
        required = [("contact number", context.contact_number)]
    else:
        required = [("reference", context.reference), ("contact number", context.contact_number)]
    for label, value in required:
        if " ".join(value.split()) not in flat:
            raise TemplateError(f"{name}: the message must give the {label} {value!r}")


class MessageRenderer:
    def __init__(
        self, template_dir: Path, *, reload_templates: bool = True, with_html: bool = True
    ) -> None:
        """`reload_templates=False` never looks at a template file again once loaded and
        `with_html=False` leaves an email's HTML out: for rehearsals, which render many
        messages in one short run and only read their text."""
        self._with_html = with_html
        # Without reloading, a template once loaded is kept here, with its globals in one
        # plain dict: Jinja keeps them in a ChainMap, which every render copies slowly.
        self._loaded: dict[str, jinja2.Template] | None = None if reload_templates else {}
        self._environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(template_dir),
            auto_reload=reload_templates,
            undefined=jinja2.StrictUndefined,
            # Email HTML is escaped; plain text and SMS must show a name as typed.
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html", "html.j2"), default_for_string=False, default=False
            ),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._environment.filters["sentence"] = _sentence
        self._environment.filters["interval"] = interval_in_language
        # Without reloading, whether a language has a template is looked up once.
        self._present: dict[str, bool] | None = None if reload_templates else {}

    def render(self, template: str, channel: Channel, context: MessageContext) -> RenderedMessage:
        name = message_template_path(template, channel)
        if not _TEMPLATE_NAME.fullmatch(template):
            raise TemplateError(f"{name}: not a message template name")
        if not context.reference.strip() or not context.contact_number.strip():
            raise TemplateError(f"{name}: a message needs a reference and a contact number")
        language, name = self._in_language(template, channel, context.language)
        fallback_from = None if language == context.language else context.language
        if channel == Channel.SMS:
            message = self._render_sms(template, name, context, language)
        else:
            message = self._render_email(template, name, context, language)
        if language == DEFAULT_LANGUAGE and fallback_from is None:
            return message
        return replace(message, language=language, fallback_from=fallback_from)

    def _in_language(self, template: str, channel: Channel, language: str) -> tuple[str, str]:
        """The language a message is rendered in and its template: the victim's, when
        the directory has that template, else English."""
        if language != DEFAULT_LANGUAGE:
            if not _LANGUAGE_CODE.fullmatch(language):
                raise TemplateError(f"{language!r}: not a language code")
            name = message_template_path(template, channel, language)
            if self._has(name):
                return language, name
        return DEFAULT_LANGUAGE, message_template_path(template, channel)

    def _has(self, name: str) -> bool:
        if self._present is not None and (known := self._present.get(name)) is not None:
            return known
        try:
            self._load(name)
            present = True
        except TemplateError as error:
            if not isinstance(error.__cause__, jinja2.TemplateNotFound):
                raise
            present = False
        if self._present is not None:
            self._present[name] = present
        return present

    def render_alert(self, context: AlertContext) -> RenderedMessage:
        name = f"alerts/{ALERT_TEMPLATE}.email.j2"
        if context.kind not in ALERT_KINDS:
            raise TemplateError(f"{name}: unknown alert kind {context.kind!r}")
        if context.recipient_role not in ALERT_RECIPIENT_ROLES:
            raise TemplateError(f"{name}: unknown recipient role {context.recipient_role!r}")
        subject, text = self._render_subject_and_text(name, asdict(context))
        return RenderedMessage(
            template=ALERT_TEMPLATE,
            channel=Channel.EMAIL,
            subject=subject,
            text=text,
            html=self._render_html(name, subject, text),
        )

    def _render_email(
        self, template: str, name: str, context: MessageContext, language: str
    ) -> RenderedMessage:
        subject, text = self._render_subject_and_text(name, _variables(context, language))
        _check_contains_reference_and_number(name, context, text)
        if context.discreet:
            _check_discreet(name, context, subject, text)
        return RenderedMessage(
            template=template,
            channel=Channel.EMAIL,
            subject=subject,
            text=text,
            html=self._render_html(name, subject, text, language) if self._with_html else None,
        )

    def _render_sms(
        self, template: str, name: str, context: MessageContext, language: str
    ) -> RenderedMessage:
        original = context
        text = self._render_sms_text(name, context, language)
        omitted: list[str] = []
        if sms_segments(text) > MAX_SMS_SEGMENTS:
            folded = _folded(context)
            # Nothing to fold (the usual case) renders the same text again: skip it.
            if folded != context:
                context = folded
                text = self._render_sms_text(name, context, language)
        # A message that fits leaves nothing out (its order of omission is not needed).
        fits = sms_segments(text) <= MAX_SMS_SEGMENTS
        for field in () if fits else _omission_order(context):
            if sms_segments(text) <= MAX_SMS_SEGMENTS:
                break
            blank: dict[str, Any] = {field: "" if field == "victim_name" else None}
            context = replace(context, **blank)
            shorter = self._render_sms_text(name, context, language)
            # A detail the template does not use is not reported as left out.
            if shorter != text:
                omitted.append(field)
                text = shorter
        _check_contains_reference_and_number(name, context, text)
        if context.discreet:
            # Against the values as given too: folding could hide a revealing borough name.
            _check_discreet(name, original, text)
            _check_discreet(name, context, text)
        return RenderedMessage(
            template=template,
            channel=Channel.SMS,
            subject=None,
            text=text,
            html=None,
            omitted_fields=tuple(omitted),
        )

    def _render_sms_text(self, name: str, context: MessageContext, language: str) -> str:
        template = self._load(name)
        variables = _variables(context, language)
        return plain_sms_text(self._run(name, lambda: template.render(variables)))

    def _render_subject_and_text(self, name: str, variables: Mapping[str, Any]) -> tuple[str, str]:
        template = self._load(name)
        missing = {"subject", "text"} - set(template.blocks)
        if missing:
            raise TemplateError(f"{name}: no {' or '.join(sorted(missing))} block")
        subject = self._run(name, lambda: _render_block(template, "subject", variables))
        text = self._run(name, lambda: _render_block(template, "text", variables))
        return _one_line(subject), _plain_email_text(text)

    def _render_html(
        self, name: str, subject: str, text: str, language: str = DEFAULT_LANGUAGE
    ) -> str:
        # A language's own layout if it has one (templates/messages/<lang>/), else the
        # shared one, told the language for its `lang` attribute.
        own = f"messages/{language}/{_LAYOUT}"
        layout = self._load(
            own if language != DEFAULT_LANGUAGE and self._has(own) else f"messages/{_LAYOUT}"
        )
        paragraphs = [paragraph.split("\n") for paragraph in text.split("\n\n")]
        return self._run(
            name,
            lambda: layout.render(subject=subject, paragraphs=paragraphs, language=language),
        )

    def _load(self, name: str) -> jinja2.Template:
        if self._loaded is not None and (kept := self._loaded.get(name)) is not None:
            return kept
        try:
            template = self._environment.get_template(name)
        except jinja2.TemplateNotFound as error:
            raise TemplateError(f"{name}: no such template") from error
        except jinja2.TemplateError as error:
            raise TemplateError(f"{name}: {error}") from error
        if self._loaded is not None:
            template.globals = dict(template.globals)
            self._loaded[name] = template
        return template

    def load(self, name: str) -> jinja2.Template:
        """The template at `name`, compiled (and kept, without reloading)."""
        return self._load(name)

    @staticmethod
    def _run(name: str, render: Callable[[], str]) -> str:
        try:
            return render()
        # Filters and expressions on bad values raise ordinary exceptions, not Jinja's.
        except (jinja2.TemplateError, TypeError, ValueError, LookupError, AttributeError) as error:
            raise TemplateError(f"{name}: {error}") from error


def _variables(context: MessageContext, language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """The context's fields for a template: all flat values, so no deep copy is needed;
    and the language of the template's set (what `interval` words it in)."""
    variables = dict(vars(context))
    variables["template_language"] = language
    return variables


def _render_block(template: jinja2.Template, block: str, variables: Mapping[str, Any]) -> str:
    return "".join(template.blocks[block](template.new_context(dict(variables))))


def _folded(context: MessageContext) -> MessageContext:
    changes: dict[str, Any] = {}
    for field in fields(context):
        value = getattr(context, field.name)
        if isinstance(value, str) and not is_gsm(value):
            folded = fold_to_gsm(value)
            # A value that cannot be folded completely would keep the SMS in UCS-2 anyway.
            if is_gsm(folded):
                changes[field.name] = folded
    return replace(context, **changes)


def _omission_order(context: MessageContext) -> Iterable[str]:
    present = [field for field in _OPTIONAL_SMS_FIELDS if getattr(context, field)]
    # Leaving out a value that needs UCS-2 shrinks the message most, so it goes first.
    return sorted(
        present, key=lambda field: (is_gsm(getattr(context, field)), present.index(field))
    )
