"""The victim's language (Victims' Code Right 1): offered by the policy, chosen at intake,
each message rendered in it where its template exists and in English where not, and the
language it went in recorded with it."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from cli.main import app
from delivery.outbox import MemoryOutbox
from delivery.send import add_copy
from engine.delivery import CaseOutbox, MessageSetting, SimulatedDelivery, Victim
from messaging.rendering import (
    DEFAULT_TEMPLATE_DIR,
    MessageContext,
    MessageRenderer,
    TemplateError,
    missing_translations,
)
from service.case_input import CaseError, VictimIn, check_language
from service.victim_case import (
    crime_type_text,
    london_date,
    london_time,
    promised_day,
    window_words,
)
from standards.case import CaseBook
from standards.case_state import CaseFacts, CaseState
from standards.clock import WindowUnit
from standards.delivery import MessageIntent
from standards.events import CaseEvent, EventRejected, EventType
from standards.policy import PolicyError, load_policy, parse_policy
from standards.vocabulary import Channel, Language, message_language
from tests.support.book import carry_out
from web.pages.victim_text import CATALOGUE, missing_strings, text

POLICIES = Path(__file__).resolve().parents[2] / "policies"
MET = load_policy(POLICIES / "met-pledge.toml")
MINIMAL_POLICY = """
id = "tiny"
version = 1
title = "Tiny"
contact_number = "101"
categories = ["general"]

[[standards]]
id = "acknowledgement"
title = "Acknowledge"
applies_to = ["general"]
starts_on = ["case_opened"]
window = 24
unit = "hours"
met_by = ["contact"]
"""

WELSH_SMS = (
    "{% if discreet %}Helo, eich cyfeirnod yw {{ reference }}. Ffoniwch {{ contact_number }}."
    "{% else %}{{ force_name }}: diolch. Eich cyfeirnod yw {{ reference }}. Byddwn yn "
    "diweddaru bob {{ update_interval_days|interval }}. Ffoniwch {{ contact_number }}."
    "{% endif %}"
)
WELSH_EMAIL = (
    "{% block subject %}Eich cyfeirnod {{ reference }}{% endblock %}"
    "{% block text %}Helo,\n\nEich cyfeirnod yw {{ reference }}. "
    "Ffoniwch {{ contact_number }}.{% endblock %}"
)


@pytest.fixture
def template_dir(tmp_path: Path) -> Path:
    """The shipped templates, and a Welsh acknowledgement only (in a scratch directory)."""
    directory = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATE_DIR, directory)
    shutil.rmtree(directory / "messages" / "cy", ignore_errors=True)
    welsh = directory / "messages" / "cy"
    welsh.mkdir()
    (welsh / "acknowledgement.sms.j2").write_text(WELSH_SMS, encoding="utf-8")
    (welsh / "acknowledgement.email.j2").write_text(WELSH_EMAIL, encoding="utf-8")
    return directory


def a_context(**changes: object) -> MessageContext:
    context = MessageContext(
        reference="01/123456/26",
        contact_number="101",
        force_name="Heddlu Gogledd Cymru",
        victim_name="Siân Jones",
        category="burglary",
        borough="Wrexham",
        discreet=False,
        language="cy",
    )
    return dataclasses.replace(context, **changes)  # type: ignore[arg-type]


# -- rendering ---------------------------------------------------------------------


def test_a_welsh_victim_gets_the_welsh_template_and_it_says_so(template_dir: Path) -> None:
    message = MessageRenderer(template_dir).render("acknowledgement", Channel.SMS, a_context())
    assert message.text.startswith("Heddlu Gogledd Cymru: diolch.")
    assert (message.language, message.fallback_from) == ("cy", None)


def test_interval_is_worded_in_the_templates_language(template_dir: Path) -> None:
    renderer = MessageRenderer(template_dir)
    welsh = renderer.render("acknowledgement", Channel.SMS, a_context(update_interval_days=14))
    assert "bob 2 wythnos" in welsh.text
    english = renderer.render(
        "acknowledgement", Channel.SMS, a_context(language="en", update_interval_days=14)
    )
    assert "every 2 weeks" in english.text


def test_a_message_with_no_welsh_template_falls_back_to_english_and_records_it(
    template_dir: Path,
) -> None:
    message = MessageRenderer(template_dir).render("closure", Channel.SMS, a_context())
    english = MessageRenderer(template_dir).render("closure", Channel.SMS, a_context(language="en"))
    assert message.text == english.text
    assert (message.language, message.fallback_from) == ("en", "cy")
    assert (english.language, english.fallback_from) == ("en", None)


def test_a_welsh_email_is_marked_as_welsh_in_its_html(template_dir: Path) -> None:
    message = MessageRenderer(template_dir).render("acknowledgement", Channel.EMAIL, a_context())
    assert message.subject == "Eich cyfeirnod 01/123456/26"
    assert message.html is not None and '<html lang="cy">' in message.html


def test_a_languages_own_email_layout_is_used_when_it_has_one(template_dir: Path) -> None:
    (template_dir / "messages" / "cy" / "_layout.html.j2").write_text(
        '<html lang="cy"><p>Cymraeg</p>{{ subject }}</html>', encoding="utf-8"
    )
    message = MessageRenderer(template_dir).render("acknowledgement", Channel.EMAIL, a_context())
    assert message.html == '<html lang="cy"><p>Cymraeg</p>Eich cyfeirnod 01/123456/26</html>'


def test_without_reloading_a_missing_translation_is_looked_up_once_and_still_falls_back(
    template_dir: Path,
) -> None:
    renderer = MessageRenderer(template_dir, reload_templates=False, with_html=False)
    for _ in range(2):
        message = renderer.render("closure", Channel.SMS, a_context())
        assert message.fallback_from == "cy"


def test_a_welsh_template_without_the_reference_is_refused(template_dir: Path) -> None:
    (template_dir / "messages" / "cy" / "closure.sms.j2").write_text(
        "Ffoniwch {{ contact_number }}.", encoding="utf-8"
    )
    with pytest.raises(TemplateError, match="must give the reference"):
        MessageRenderer(template_dir).render("closure", Channel.SMS, a_context())


def test_a_broken_welsh_template_fails_loudly_rather_than_falling_back(
    template_dir: Path,
) -> None:
    (template_dir / "messages" / "cy" / "closure.sms.j2").write_text(
        "{% if %}{{ reference }}", encoding="utf-8"
    )
    with pytest.raises(TemplateError, match=r"messages/cy/closure\.sms\.j2"):
        MessageRenderer(template_dir).render("closure", Channel.SMS, a_context())


def test_a_discreet_welsh_template_is_held_to_the_discreet_rules(template_dir: Path) -> None:
    (template_dir / "messages" / "cy" / "closure.sms.j2").write_text(
        "Wrexham: {{ reference }}. Ffoniwch {{ contact_number }}.", encoding="utf-8"
    )
    with pytest.raises(TemplateError, match="must not name 'Wrexham'"):
        MessageRenderer(template_dir).render("closure", Channel.SMS, a_context(discreet=True))


def test_a_language_that_is_not_a_code_is_refused(template_dir: Path) -> None:
    with pytest.raises(TemplateError, match="not a language code"):
        MessageRenderer(template_dir).render(
            "closure", Channel.SMS, a_context(language="../alerts")
        )


def test_missing_translations_lists_each_language_template_and_channel(
    template_dir: Path,
) -> None:
    missing = missing_translations(template_dir, ["acknowledgement", "closure"], ["en", "cy"])
    assert missing == [("cy", "closure", Channel.SMS), ("cy", "closure", Channel.EMAIL)]


# -- what is recorded --------------------------------------------------------------


def test_the_outbox_row_records_the_language_sent_and_the_one_it_fell_back_from(
    template_dir: Path,
) -> None:
    message = MessageRenderer(template_dir).render("closure", Channel.SMS, a_context())
    outbox = MemoryOutbox()
    row = add_copy(outbox, "k", Channel.SMS, "+447700900123", message, None, datetime.now(UTC))
    assert (row.language, row.fallback_from) == ("en", "cy")


def test_the_in_process_engine_renders_in_the_victims_language(template_dir: Path) -> None:
    delivery = SimulatedDelivery(
        MessageRenderer(template_dir, reload_templates=False, with_html=False),
        MessageSetting("Heddlu Gogledd Cymru", "{borough} Victim Focus Unit", "101"),
    )
    victim = Victim.reached_by(
        name="Siân Jones",
        email="sian@example.org",
        phone=None,
        preferred_channel="email",
        allowed_channels=None,
        discreet=False,
        language="cy",
    )
    outbox = CaseOutbox(
        reference="01/123456/26", category="burglary", borough_name="Wrexham", victim=victim
    )
    at = datetime(2026, 6, 1, 12, tzinfo=UTC)
    for template in ("acknowledgement", "closure"):
        intent = MessageIntent(key=f"{template}:1", template=template, at=at, facts={})
        delivery.send(outbox, intent, at, [])
    rows = {row.template: row for row in outbox.rows.values()}
    assert rows["acknowledgement"].body.startswith("Helo,")
    assert (rows["acknowledgement"].language, rows["acknowledgement"].fallback_from) == ("cy", None)
    assert (rows["closure"].language, rows["closure"].fallback_from) == ("en", "cy")


def test_staff_read_a_messages_language_and_any_fallback_in_words() -> None:
    assert message_language("cy", None) == "Welsh"
    assert message_language("en", None) == "English"
    assert message_language("en", "cy") == "English (Welsh not available)"


# -- intake and changes --------------------------------------------------------------


def test_a_victims_language_is_english_unless_given() -> None:
    assert VictimIn(name="Siân", email="sian@example.org").language == Language.ENGLISH
    assert VictimIn(name="Siân", email="sian@example.org", language="cy").language == "cy"


def test_an_unsupported_language_is_refused_in_one_line_naming_those_accepted() -> None:
    with pytest.raises(ValidationError) as refused:
        VictimIn(name="Siân", email="sian@example.org", language="fr")
    problems = refused.value.errors()
    assert len(problems) == 1
    assert problems[0]["msg"] == "a language is one of en (English), cy (Welsh)"


def test_pledge_case_open_refuses_an_unknown_language_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    opened = CliRunner().invoke(
        app,
        ["case", "open", "--reference", "01/1/26", "--category", "general", "--borough",
         "Camden", "--name", "Siân", "--email", "sian@example.org", "--language", "fr"],
    )  # fmt: skip
    assert opened.exit_code == 1
    assert opened.output.strip() == (
        "error: victim.language: a language is one of en (English), cy (Welsh)"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_language_the_policy_does_not_offer_is_refused_at_intake() -> None:
    tiny = parse_policy(MINIMAL_POLICY)
    check_language(tiny, "en")
    with pytest.raises(CaseError, match="language 'cy' is not offered by policy tiny; offered: en"):
        check_language(tiny, "cy")


def test_the_book_refuses_a_change_to_a_language_the_policy_does_not_offer() -> None:
    reported = datetime(2026, 6, 1, 9, tzinfo=UTC)
    tiny = parse_policy(MINIMAL_POLICY)
    for policy, refused in ((MET, False), (tiny, True)):
        case = CaseBook(
            CaseFacts(
                reference="01/1/26",
                category="general",
                borough="Camden",
                reported_at=reported,
                policy=policy,
            ),
            CaseState(),
        )
        carry_out(case, case.open_case(), reported)
        event = CaseEvent(
            type=EventType.PREFERENCES_CHANGED,
            at=reported + timedelta(hours=1),
            details={"language": "cy"},
        )
        if refused:
            with pytest.raises(EventRejected, match="not offered by policy tiny"):
                case.check(event, event.at)
        else:
            case.check(event, event.at)
            before = [(o.key, o.due_at) for o in case.state.obligations]
            carry_out(case, case.apply(event), event.at)
            # A new language changes no clock.
            assert [(o.key, o.due_at) for o in case.state.obligations] == before


# -- the policy ------------------------------------------------------------------------


def test_the_shipped_policies_offer_english_and_welsh() -> None:
    assert MET.languages == ["en", "cy"]
    assert load_policy(POLICIES / "victims-code-2021.toml").languages == ["en", "cy"]


def test_a_policy_without_languages_offers_english() -> None:
    assert parse_policy(MINIMAL_POLICY).languages == ["en"]


def test_a_policy_must_offer_english_and_only_known_languages() -> None:
    with pytest.raises(PolicyError, match="languages: must include 'en'"):
        parse_policy(MINIMAL_POLICY.replace("categories", 'languages = ["cy"]\ncategories'))
    with pytest.raises(PolicyError, match=r"languages\[1\]: Input should be 'en' or 'cy'"):
        parse_policy(MINIMAL_POLICY.replace("categories", 'languages = ["en", "fr"]\ncategories'))


def test_policy_check_warns_of_each_missing_translation_and_still_passes(
    template_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLEDGE_TEMPLATE_DIR", str(template_dir))
    result = CliRunner().invoke(app, ["policy", "check", str(POLICIES / "met-pledge.toml")])
    output = " ".join(result.output.split())
    assert result.exit_code == 0
    assert "warning: cy (Welsh): no closure sms template (messages/cy/closure.sms.j2)" in output
    assert "no sign_in_code email template" in output
    assert "no acknowledgement" not in output
    assert "met-pledge version 3: 10 standards, languages en, cy, ok" in output


# -- the victim pages' catalogue -------------------------------------------------------


def test_every_victim_page_string_is_in_english_and_welsh() -> None:
    assert missing_strings(["en", "cy"]) == []
    assert all(set(entry) == {"en", "cy"} for entry in CATALOGUE.values())


def test_the_victims_page_gives_dates_and_windows_in_welsh() -> None:
    instant = datetime(2026, 12, 2, 14, 5, tzinfo=UTC)
    assert london_date(instant) == "Wednesday 2 December 2026"
    assert london_date(instant, "cy") == "Dydd Mercher 2 Rhagfyr 2026"
    assert london_time(instant, "cy") == "2:05yp"
    assert promised_day(instant, "cy") == "Dydd Mercher 2 Rhagfyr"
    assert window_words(2, WindowUnit.WORKING_DAYS, "cy") == "2 diwrnod gwaith"
    assert window_words(2, WindowUnit.WORKING_DAYS) == "2 working days"


def test_a_catalogue_string_escapes_what_the_page_gives_it() -> None:
    shown = text("cy", "code.sent", reference="<b>01/1/26</b>")
    assert "<strong>&lt;b&gt;01/1/26&lt;/b&gt;</strong>" in shown


def test_every_crime_type_of_the_shipped_policies_reads_in_welsh_on_the_victim_page() -> None:
    for name in ("met-pledge.toml", "victims-code-2021.toml"):
        for category in load_policy(POLICIES / name).categories:
            english = crime_type_text(category)
            assert english == category.replace("_", " ").capitalize()
            assert crime_type_text(category, "cy") != english, category
    assert crime_type_text("domestic_abuse", "cy") == "Cam-drin domestig"
    # A force's own category reads as its English words until it is translated.
    assert crime_type_text("cycle_theft", "cy") == "Cycle theft"
