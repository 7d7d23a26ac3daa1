"""Tests for messaging.rendering: victim messages, staff alerts and SMS length.

The forbidden-word list below is the brief's own, kept here rather than imported, so a
weakened list in the module cannot weaken the test. SMS boundary values are worked out
from GSM 03.38 and 3GPP TS 23.040 (160/153 septets, 70/67 UTF-16 units), not from the code.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from messaging.rendering import (
    ALERT_KINDS,
    DEFAULT_TEMPLATE_DIR,
    MESSAGE_TEMPLATES,
    AlertContext,
    MessageContext,
    MessageRenderer,
    RenderedMessage,
    TemplateError,
)
from messaging.sms_text import fold_to_gsm, sms_encoding, sms_segments
from standards.vocabulary import Channel

REFERENCE = "01/123456/26"
CONTACT_NUMBER = "0300 123 1212"

RENDERER = MessageRenderer(DEFAULT_TEMPLATE_DIR)

FORBIDDEN_IN_DISCREET = re.compile(
    r"\b(police|crimes?|officers?|victims?|courts?|arrest(s|ed)?|charge[sd]?|abuse[sd]?)\b",
    re.IGNORECASE,
)

CATEGORIES = (
    "general",
    "burglary",
    "domestic_abuse",
    "sexual_offence",
    "hate_crime",
    "serious_assault",
    "road_traffic_collision",
    "feedback",
)

# The longest values the brief calls realistic: names 40, officer contact 30, free text 120.
LONG_VICTIM_NAME = "Alexandrina Montgomery-Fitzwilliam Smyth"
LONG_OFFICER_NAME = "DS Alexandrina Montgomery-Fitzwilliam-Ng"
LONG_FORCE_NAME = "Avon and Somerset Constabulary (Bristol)"
LONG_UNIT_NAME = "Kensington and Chelsea Victim Focus Unit"
LONG_OFFICER_CONTACT = "alexandra.smyth1@met.police.uk"
LONG_REASON = (
    "The suspect could not be identified: there were no witnesses, no forensic evidence, "
    "and the CCTV footage was too unclear"
)
LONG_OUTCOME = (
    "Found guilty at Wood Green Crown Court and sentenced to 18 months in prison, "
    "with a restraining order lasting five years"
)

UCS2_NAME = "Zoë Łukasiewicz-Ñúñez"
CYRILLIC_NAME = "Олександр Шевченко"


def a_context(**changes: object) -> MessageContext:
    context = MessageContext(
        reference=REFERENCE,
        contact_number=CONTACT_NUMBER,
        force_name="Metropolitan Police",
        victim_name="Jane Doe",
        category="burglary",
        borough="Camden",
        discreet=False,
        officer_name="DC Sam Patel",
        officer_contact="020 7230 1234",
        unit_name="Camden Victim Focus Unit",
        reason="No witnesses and no CCTV",
        outcome="Guilty; 12 months in prison",
        update_interval_days=None,
    )
    return replace(context, **changes)  # type: ignore[arg-type]


def a_long_context(**changes: object) -> MessageContext:
    long_values: dict[str, object] = {
        "force_name": LONG_FORCE_NAME,
        "victim_name": LONG_VICTIM_NAME,
        "borough": "Kensington and Chelsea",
        "officer_name": LONG_OFFICER_NAME,
        "officer_contact": LONG_OFFICER_CONTACT,
        "unit_name": LONG_UNIT_NAME,
        "reason": LONG_REASON,
        "outcome": LONG_OUTCOME,
        "update_interval_days": 10,
    }
    return a_context(**(long_values | changes))


def a_sparse_context(**changes: object) -> MessageContext:
    unknown: dict[str, object] = dict.fromkeys(
        ("officer_name", "officer_contact", "unit_name", "reason", "outcome")
    )
    return a_context(**(unknown | changes))


CONTEXT_SHAPES = {"typical": a_context, "long": a_long_context, "sparse": a_sparse_context}


def everything_the_reader_sees(message: RenderedMessage) -> list[str]:
    return [part for part in (message.subject, message.text, message.html) if part is not None]


def a_renderer_with(tmp_path: Path, files: dict[str, str]) -> MessageRenderer:
    for name, body in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return MessageRenderer(tmp_path)


def test_the_long_test_values_are_as_long_as_the_brief_says() -> None:
    for name in (LONG_VICTIM_NAME, LONG_OFFICER_NAME, LONG_FORCE_NAME, LONG_UNIT_NAME):
        assert len(name) == 40
    assert len(LONG_OFFICER_CONTACT) == 30
    assert len(LONG_REASON) == 120
    assert len(LONG_OUTCOME) == 120


def test_the_default_template_dir_is_the_repository_templates_folder() -> None:
    repository = Path(__file__).resolve().parents[2]
    assert repository / "templates" == DEFAULT_TEMPLATE_DIR
    for kind in MESSAGE_TEMPLATES:
        for channel in Channel:
            assert (DEFAULT_TEMPLATE_DIR / "messages" / f"{kind}.{channel}.j2").is_file()


# --- every kind, every channel, discreet or not --------------------------------------------


@pytest.mark.parametrize("shape", CONTEXT_SHAPES)
@pytest.mark.parametrize("discreet", [False, True], ids=["plain", "discreet"])
@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("kind", MESSAGE_TEMPLATES)
def test_every_kind_renders_on_both_channels_with_the_reference_and_contact_number(
    kind: str, channel: Channel, discreet: bool, shape: str
) -> None:
    message = RENDERER.render(kind, channel, CONTEXT_SHAPES[shape](discreet=discreet))

    assert message.template == kind
    assert message.channel == channel
    assert REFERENCE in message.text
    assert CONTACT_NUMBER in message.text
    if channel == Channel.EMAIL:
        assert message.subject
        assert "\n" not in message.subject
        assert message.html is not None
        assert REFERENCE in message.html
        assert CONTACT_NUMBER in message.html
    else:
        assert message.subject is None
        assert message.html is None
        assert "\n" not in message.text


@pytest.mark.parametrize("category", ["domestic_abuse", "sexual_offence", *CATEGORIES])
@pytest.mark.parametrize("shape", CONTEXT_SHAPES)
@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("kind", MESSAGE_TEMPLATES)
def test_discreet_messages_say_nothing_about_the_police_the_crime_or_the_place(
    kind: str, channel: Channel, shape: str, category: str
) -> None:
    context = CONTEXT_SHAPES[shape](discreet=True, category=category)
    message = RENDERER.render(kind, channel, context)

    revealing = [category, category.replace("_", " "), context.borough, context.force_name]
    revealing += [value for value in (context.unit_name, context.officer_name) if value]
    for part in everything_the_reader_sees(message):
        assert FORBIDDEN_IN_DISCREET.search(part) is None, part
        for value in revealing:
            assert value.lower() not in part.lower(), (value, part)
    assert "your reference" in message.text.lower()


def test_a_discreet_message_reads_like_the_example_in_the_brief() -> None:
    message = RENDERER.render(
        "closure", Channel.SMS, a_context(discreet=True, contact_number="101")
    )

    assert message.text == (
        "Hello, this is an update about your reference 01/123456/26. "
        "Please call 101 when it is safe to do so."
    )


@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("kind", MESSAGE_TEMPLATES)
def test_plain_messages_never_run_two_sentences_together(kind: str, channel: Channel) -> None:
    for shape in CONTEXT_SHAPES.values():
        text = RENDERER.render(kind, channel, shape()).text
        assert re.search(r"[a-z0-9][.!?:,][A-Z]", text) is None, text
        assert "  " not in text
        assert ".." not in text


# --- what each kind must say ---------------------------------------------------------------


@pytest.mark.parametrize("channel", list(Channel))
def test_officer_assigned_introduces_the_officer_and_how_to_reach_them(channel: Channel) -> None:
    text = RENDERER.render("officer_assigned", channel, a_context()).text

    assert "DC Sam Patel" in text
    assert "020 7230 1234" in text


@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("kind", ["officer_assigned", "arrest", "charge"])
def test_an_officer_contact_is_given_even_without_the_officers_name(
    kind: str, channel: Channel
) -> None:
    text = RENDERER.render(kind, channel, a_context(officer_name=None)).text

    assert "020 7230 1234" in text


@pytest.mark.parametrize("channel", list(Channel))
def test_traffic_unit_contact_gives_the_person_dealing_with_the_case(channel: Channel) -> None:
    text = RENDERER.render("traffic_unit_contact", channel, a_context()).text

    assert "DC Sam Patel" in text
    assert "020 7230 1234" in text


@pytest.mark.parametrize("channel", list(Channel))
def test_traffic_unit_contact_without_an_officer_says_the_unit_has_the_case(
    channel: Channel,
) -> None:
    text = RENDERER.render("traffic_unit_contact", channel, a_sparse_context()).text

    assert "Traffic Criminal Justice Unit" in text
    assert CONTACT_NUMBER in text


@pytest.mark.parametrize("channel", list(Channel))
def test_closure_gives_the_reason(channel: Channel) -> None:
    text = RENDERER.render("closure", channel, a_context()).text

    assert "No witnesses and no CCTV." in text


@pytest.mark.parametrize("channel", list(Channel))
def test_closure_without_a_reason_says_an_officer_will_explain_why(channel: Channel) -> None:
    text = RENDERER.render("closure", channel, a_sparse_context()).text

    assert "explain why" in text


@pytest.mark.parametrize("channel", list(Channel))
def test_reopened_gives_the_reason_when_there_is_one(channel: Channel) -> None:
    assert "No witnesses" in RENDERER.render("reopened", channel, a_context()).text
    assert "Reason" not in RENDERER.render("reopened", channel, a_sparse_context()).text


@pytest.mark.parametrize("channel", list(Channel))
def test_court_outcome_gives_the_outcome(channel: Channel) -> None:
    text = RENDERER.render("court_outcome", channel, a_context()).text

    assert "Guilty; 12 months in prison." in text


@pytest.mark.parametrize("channel", list(Channel))
def test_court_outcome_without_the_outcome_offers_to_explain_it(channel: Channel) -> None:
    text = RENDERER.render("court_outcome", channel, a_sparse_context()).text

    assert "explain" in text


@pytest.mark.parametrize("channel", list(Channel))
def test_feedback_acknowledgement_thanks_the_person_and_does_not_call_it_a_crime(
    channel: Channel,
) -> None:
    message = RENDERER.render(
        "feedback_acknowledgement", channel, a_sparse_context(category="feedback")
    )

    assert "thank you for your feedback" in message.text.lower()
    for part in everything_the_reader_sees(message):
        assert re.search(r"\b(crimes?|victims?|investigation)\b", part, re.IGNORECASE) is None


@pytest.mark.parametrize(
    ("days", "words"), [(None, "4 weeks"), (28, "4 weeks"), (7, "week"), (10, "10 days")]
)
def test_the_update_interval_is_given_in_words(days: int | None, words: str) -> None:
    text = RENDERER.render(
        "periodic_update", Channel.SMS, a_context(update_interval_days=days)
    ).text

    assert f"within the next {words}." in text


def test_an_invalid_update_interval_fails_loudly() -> None:
    with pytest.raises(TemplateError, match="periodic_update"):
        RENDERER.render("periodic_update", Channel.SMS, a_context(update_interval_days=0))


# --- SMS length ----------------------------------------------------------------------------


@pytest.mark.parametrize("discreet", [False, True], ids=["plain", "discreet"])
@pytest.mark.parametrize("kind", MESSAGE_TEMPLATES)
def test_every_sms_fits_in_two_segments_with_long_realistic_values_leaving_nothing_out(
    kind: str, discreet: bool
) -> None:
    message = RENDERER.render(kind, Channel.SMS, a_long_context(discreet=discreet))

    assert sms_encoding(message.text) == "GSM-7"
    assert sms_segments(message.text) <= 2
    assert message.omitted_fields == ()


@pytest.mark.parametrize("kind", MESSAGE_TEMPLATES)
def test_a_name_outside_gsm_is_folded_so_the_sms_still_fits_in_two_segments(kind: str) -> None:
    context = a_long_context(officer_name=UCS2_NAME, victim_name=UCS2_NAME)
    message = RENDERER.render(kind, Channel.SMS, context)

    assert sms_segments(message.text) <= 2
    assert message.omitted_fields == ()
    assert REFERENCE in message.text
    assert CONTACT_NUMBER in message.text
    assert UCS2_NAME not in message.text


def test_a_folded_name_keeps_the_gsm_letters_and_drops_only_the_accents_gsm_lacks() -> None:
    assert fold_to_gsm(UCS2_NAME) == "Zoe Lukasiewicz-Ñuñez"
    assert fold_to_gsm("Siobhán Ó Súilleabháin") == "Siobhan O Suilleabhain"
    assert fold_to_gsm("Ağça Çelik") == "Agca Çelik"
    assert fold_to_gsm(CYRILLIC_NAME) == CYRILLIC_NAME


def test_the_officer_assigned_sms_with_a_folded_name_still_introduces_them() -> None:
    message = RENDERER.render(
        "officer_assigned", Channel.SMS, a_long_context(officer_name=UCS2_NAME)
    )

    assert "Zoe Lukasiewicz-Ñuñez" in message.text
    assert LONG_OFFICER_CONTACT in message.text


def test_the_email_keeps_the_exact_spelling_of_a_name() -> None:
    message = RENDERER.render(
        "officer_assigned", Channel.EMAIL, a_context(officer_name=UCS2_NAME, victim_name=UCS2_NAME)
    )

    assert message.text.count(UCS2_NAME) == 2


def test_a_short_sms_keeps_a_name_exactly_even_in_ucs2(tmp_path: Path) -> None:
    renderer = a_renderer_with(
        tmp_path,
        {"messages/note.sms.j2": "{{ officer_name }}: {{ reference }}, call {{ contact_number }}."},
    )

    message = renderer.render("note", Channel.SMS, a_context(officer_name=UCS2_NAME))

    assert message.text == f"{UCS2_NAME}: {REFERENCE}, call {CONTACT_NUMBER}."
    assert sms_encoding(message.text) == "UCS-2"
    assert message.omitted_fields == ()


@pytest.mark.parametrize("kind", ["officer_assigned", "traffic_unit_contact", "arrest", "charge"])
def test_a_name_that_cannot_be_folded_is_left_out_of_the_sms_and_reported(kind: str) -> None:
    message = RENDERER.render(kind, Channel.SMS, a_long_context(officer_name=CYRILLIC_NAME))

    assert sms_segments(message.text) <= 2
    assert sms_encoding(message.text) == "GSM-7"
    assert message.omitted_fields == ("officer_name",)
    assert CYRILLIC_NAME not in message.text
    assert LONG_OFFICER_CONTACT in message.text
    assert REFERENCE in message.text
    assert CONTACT_NUMBER in message.text


def test_a_closure_reason_that_needs_ucs2_is_left_out_whole_and_the_sms_offers_to_explain() -> None:
    reason = (
        "Свидетелей нет, и записи камер видеонаблюдения оказались слишком нечёткими для опознания"
    )
    message = RENDERER.render("closure", Channel.SMS, a_long_context(reason=reason))

    assert sms_segments(message.text) <= 2
    assert message.omitted_fields == ("reason",)
    assert "Reason" not in message.text
    assert "explain why" in message.text


def test_a_court_outcome_that_does_not_fit_is_never_cut_mid_way() -> None:
    outcome = "Признан виновным и приговорён к восемнадцати месяцам лишения свободы"
    message = RENDERER.render("court_outcome", Channel.SMS, a_context(outcome=outcome))

    assert message.omitted_fields == ("outcome",)
    assert "Признан" not in message.text
    assert "explain" in message.text


def test_an_sms_that_cannot_fit_at_all_is_sent_whole_rather_than_cut() -> None:
    # Only unrealistic values get here; the reference and number must survive regardless.
    force_name = "Полицейская служба " * 10
    message = RENDERER.render(
        "periodic_update", Channel.SMS, a_sparse_context(force_name=force_name)
    )

    assert sms_segments(message.text) > 2
    assert force_name.strip() in message.text
    assert REFERENCE in message.text
    assert CONTACT_NUMBER in message.text


def test_curly_punctuation_does_not_force_an_sms_into_ucs2() -> None:
    reason = "The owner’s CCTV – the only evidence – was “not usable”…"  # noqa: RUF001
    message = RENDERER.render("closure", Channel.SMS, a_context(reason=reason))

    assert sms_encoding(message.text) == "GSM-7"
    assert 'The owner\'s CCTV - the only evidence - was "not usable"...' in message.text
    assert message.omitted_fields == ()


def test_a_decomposed_accent_counts_as_the_gsm_letter_it_spells() -> None:
    name = "Rene\u0301e Dupont"  # "e" + combining acute: the GSM letter "é" once composed
    message = RENDERER.render("officer_assigned", Channel.SMS, a_context(officer_name=name))

    assert "Renée Dupont" in message.text
    assert sms_encoding(message.text) == "GSM-7"


# --- SMS encoding and segment boundaries ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("", "GSM-7"),
        ("Hello, call 101 @ £5 {ok} €", "GSM-7"),
        ("Ñuñez Ä Ö Ü ß Δ Ω é è", "GSM-7"),
        ("Zoë", "UCS-2"),
        ("it’s", "UCS-2"),  # noqa: RUF001
        ("ok 🙂", "UCS-2"),
        ("\x1b", "UCS-2"),
    ],
)
def test_sms_encoding_is_gsm_7_only_for_the_gsm_alphabet(text: str, encoding: str) -> None:
    assert sms_encoding(text) == encoding


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 153 * 3, 3),
        ("a" * (153 * 3 + 1), 4),
    ],
)
def test_gsm_segments_hold_160_septets_alone_or_153_each_when_joined(
    text: str, segments: int
) -> None:
    assert sms_segments(text) == segments


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("€" * 80, 1),
        ("€" * 81, 2),
        ("a" * 158 + "[", 1),
        ("a" * 159 + "[", 2),
        ("a" * 304 + "^", 2),
        ("a" * 305 + "^", 3),
        ("\f" * 80, 1),
        ("|~\\{}[]^" * 10, 1),
    ],
)
def test_gsm_extension_characters_count_as_two_septets(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


def test_an_escape_pair_is_never_split_across_gsm_parts() -> None:
    # 152 plain septets leave one in the first part: the two-septet "€" starts the second.
    assert sms_segments("a" * 152 + "€" + "a" * 152) == 3
    assert sms_segments("a" * 151 + "€" + "a" * 153) == 2


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("ë" * 70, 1),
        ("ë" * 71, 2),
        ("ë" * 134, 2),
        ("ë" * 135, 3),
        ("🙂" * 35, 1),
        ("🙂" * 36, 2),
        ("a" * 69 + "🙂", 2),
        ("a" * 68 + "🙂", 1),
    ],
)
def test_ucs2_segments_hold_70_utf16_units_alone_or_67_each_when_joined(
    text: str, segments: int
) -> None:
    assert sms_segments(text) == segments


def test_a_surrogate_pair_is_never_split_across_ucs2_parts() -> None:
    # 33 emoji fill 66 of a part's 67 units, so the 34th starts the next part.
    assert sms_segments("🙂" * 66) == 2
    assert sms_segments("🙂" * 67) == 3


# --- failures are loud ---------------------------------------------------------------------


def test_a_missing_variable_fails_loudly_naming_the_template(tmp_path: Path) -> None:
    renderer = a_renderer_with(
        tmp_path, {"messages/broken.sms.j2": "{{ reference }} {{ contact_number }} {{ nobody }}"}
    )

    with pytest.raises(TemplateError, match=r"messages/broken\.sms\.j2.*nobody"):
        renderer.render("broken", Channel.SMS, a_context())


def test_a_missing_variable_in_a_condition_fails_loudly(tmp_path: Path) -> None:
    renderer = a_renderer_with(
        tmp_path,
        {
            "messages/broken.email.j2": (
                "{% block subject %}Hi{% endblock %}"
                "{% block text %}{% if nobody %}x{% endif %}{{ reference }}{% endblock %}"
            )
        },
    )

    with pytest.raises(TemplateError, match="broken"):
        renderer.render("broken", Channel.EMAIL, a_context())


def test_a_syntax_error_fails_loudly_naming_the_template(tmp_path: Path) -> None:
    renderer = a_renderer_with(tmp_path, {"messages/broken.sms.j2": "{% if %}"})

    with pytest.raises(TemplateError, match="broken"):
        renderer.render("broken", Channel.SMS, a_context())


def test_an_unknown_template_fails_naming_it() -> None:
    with pytest.raises(TemplateError, match="no_such_kind"):
        RENDERER.render("no_such_kind", Channel.SMS, a_context())


@pytest.mark.parametrize("name", ["../alerts/alert", "_layout", "Closure", "closure.sms", ""])
def test_a_name_that_is_not_a_message_template_is_refused(name: str) -> None:
    with pytest.raises(TemplateError):
        RENDERER.render(name, Channel.EMAIL, a_context())


def test_an_email_template_without_a_subject_block_fails(tmp_path: Path) -> None:
    renderer = a_renderer_with(
        tmp_path,
        {"messages/nosubject.email.j2": "{% block text %}{{ reference }}{% endblock %}"},
    )

    with pytest.raises(TemplateError, match="subject"):
        renderer.render("nosubject", Channel.EMAIL, a_context())


def test_a_template_that_leaves_out_the_contact_number_is_refused(tmp_path: Path) -> None:
    renderer = a_renderer_with(tmp_path, {"messages/terse.sms.j2": "Ref {{ reference }}."})

    with pytest.raises(TemplateError, match="contact number"):
        renderer.render("terse", Channel.SMS, a_context())


def test_a_message_without_a_reference_is_refused() -> None:
    with pytest.raises(TemplateError, match="reference"):
        RENDERER.render("closure", Channel.SMS, a_context(reference=" "))


def test_a_discreet_template_that_says_police_is_refused(tmp_path: Path) -> None:
    renderer = a_renderer_with(
        tmp_path,
        {"messages/leaky.sms.j2": "Police update: {{ reference }}, call {{ contact_number }}."},
    )

    renderer.render("leaky", Channel.SMS, a_context(discreet=False))
    with pytest.raises(TemplateError, match="police"):
        renderer.render("leaky", Channel.SMS, a_context(discreet=True))


def test_a_discreet_template_that_names_the_borough_is_refused(tmp_path: Path) -> None:
    renderer = a_renderer_with(
        tmp_path,
        {
            "messages/leaky.email.j2": (
                "{% block subject %}{{ borough }}{% endblock %}"
                "{% block text %}{{ reference }} {{ contact_number }}{% endblock %}"
            )
        },
    )

    with pytest.raises(TemplateError, match="Camden"):
        renderer.render("leaky", Channel.EMAIL, a_context(discreet=True))


# --- email HTML ----------------------------------------------------------------------------


def test_the_html_escapes_a_name_but_the_plain_text_shows_it_as_typed() -> None:
    name = '<script>alert("x")</script> & Co'
    message = RENDERER.render("officer_assigned", Channel.EMAIL, a_context(victim_name=name))

    assert message.html is not None
    assert "<script>" not in message.html
    assert "&lt;script&gt;" in message.html
    assert "&amp; Co" in message.html
    assert name in message.text


@pytest.mark.parametrize("kind", MESSAGE_TEMPLATES)
def test_the_html_is_self_contained(kind: str) -> None:
    html = RENDERER.render(kind, Channel.EMAIL, a_context()).html

    assert html is not None
    assert html.startswith("<!DOCTYPE html>")
    assert re.search(r"https?:|src=|<link|<script|<img|url\(", html, re.IGNORECASE) is None


def test_the_html_keeps_paragraphs_and_line_breaks() -> None:
    message = RENDERER.render("officer_assigned", Channel.EMAIL, a_context())

    assert message.html is not None
    assert message.html.count("<p ") == message.text.count("\n\n") + 1
    assert "<br>" in message.html


def test_a_line_break_in_a_value_cannot_reach_the_subject() -> None:
    message = RENDERER.render(
        "periodic_update", Channel.EMAIL, a_context(reference="01/123456/26\r\nBcc: x@example.org")
    )

    assert message.subject is not None
    assert "\n" not in message.subject
    assert "\r" not in message.subject


# --- staff alerts --------------------------------------------------------------------------


def an_alert(**changes: object) -> AlertContext:
    alert = AlertContext(
        kind="breach",
        reference=REFERENCE,
        borough="Camden",
        standard="victim_update",
        standard_title="Keep the victim updated",
        due_at="2026-03-01T10:00:00+00:00",
        detail="No update since 2 February",
        recipient_role="vfu",
    )
    return replace(alert, **changes)  # type: ignore[arg-type]


WHAT_TO_DO = {
    "warning": "before the due time",
    "breach": "reason",
    "escalation": "manager",
    "delivery_failed": "by hand, safely",
    "manual_contact_required": "by hand, safely",
    "update_requested": "Give the victim an update, safely",
}


@pytest.mark.parametrize("role", ["vfu", "manager"])
@pytest.mark.parametrize("kind", ALERT_KINDS)
def test_the_alert_email_renders_for_each_kind(kind: str, role: str) -> None:
    message = RENDERER.render_alert(an_alert(kind=kind, recipient_role=role))

    assert message.channel == Channel.EMAIL
    assert message.template == "alert"
    assert message.subject is not None
    assert REFERENCE in message.subject
    assert "Keep the victim updated" in message.subject
    for fact in (REFERENCE, "Camden", "Keep the victim updated", "2026-03-01T10:00:00+00:00"):
        assert fact in message.text
    assert "No update since 2 February" in message.text
    assert WHAT_TO_DO[kind] in message.text
    assert ("manager" in message.text.splitlines()[0]) == (role == "manager")
    assert message.html is not None
    assert REFERENCE in message.html


def test_every_alert_kind_has_its_own_subject() -> None:
    subjects = {RENDERER.render_alert(an_alert(kind=kind)).subject for kind in ALERT_KINDS}

    assert len(subjects) == len(ALERT_KINDS)


def test_an_alert_without_a_due_time_says_so() -> None:
    message = RENDERER.render_alert(an_alert(kind="manual_contact_required", due_at=None))

    assert "Due: no due time" in message.text


def test_an_alert_detail_is_escaped_in_the_html() -> None:
    message = RENDERER.render_alert(an_alert(detail="<b>bold</b>"))

    assert message.html is not None
    assert "&lt;b&gt;bold&lt;/b&gt;" in message.html
    assert "<b>bold</b>" in message.text


@pytest.mark.parametrize(
    "changes", [{"kind": "reminder"}, {"recipient_role": "officer"}], ids=["kind", "role"]
)
def test_an_unknown_alert_kind_or_recipient_fails(changes: dict[str, str]) -> None:
    with pytest.raises(TemplateError, match="alert"):
        RENDERER.render_alert(an_alert(**changes))
