"""The Welsh (Cymraeg) victim messages in templates/messages/cy/: one for every English
template, each marked for review by a Welsh translator, and each keeping the renderer's
rules when rendered in place of the English ones (reference and contact number, SMS
within two segments in GSM-7, discreet wording that says nothing in either language).

Each is rendered by the shipped renderer for a Welsh-speaking victim, and must come from
the Welsh set (not the English fallback).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from messaging.discreet import discreet_problems, forbidden_words_in
from messaging.rendering import (
    DEFAULT_TEMPLATE_DIR,
    SIGN_IN_CODE_TEMPLATE,
    MessageContext,
    MessageRenderer,
    RenderedMessage,
    TemplateError,
    message_template_names,
)
from messaging.sms_text import sms_encoding, sms_segments
from standards.vocabulary import Channel

ENGLISH = DEFAULT_TEMPLATE_DIR / "messages"
WELSH = ENGLISH / "cy"
REVIEW_MARKER = "{# cy: machine-drafted, awaiting review by a Welsh translator #}"
# A template's first line: the draft marker, or, once a translator has reviewed it, who and
# when (docs/welsh.md).
REVIEW_STATUS = re.compile(
    r"\{# cy: (machine-drafted, awaiting review by a Welsh translator"
    r"|reviewed by [^,#]+, \d{4}-\d{2}-\d{2}) #\}\n"
)

REFERENCE = "01/123456/26"
CONTACT_NUMBER = "0300 123 1212"
ENGLISH_TEMPLATES = sorted(message_template_names(DEFAULT_TEMPLATE_DIR))
ENGLISH_RENDERER = MessageRenderer(DEFAULT_TEMPLATE_DIR, reload_templates=False)


def a_context(**changes: object) -> MessageContext:
    context = MessageContext(
        reference=REFERENCE,
        contact_number=CONTACT_NUMBER,
        force_name="Heddlu Dyfed-Powys",
        victim_name="Siân Llywelyn",
        category="domestic_abuse",
        borough="Ceredigion",
        discreet=False,
        officer_name="DC Rhys Evans",
        officer_contact="01267 222020",
        unit_name="Uned Gofal Dioddefwyr Ceredigion",
        reason="No witnesses and no CCTV",
        outcome="Guilty; 12 months in prison",
        update_interval_days=None,
    )
    return replace(context, **changes)  # type: ignore[arg-type]


def a_sign_in_context(**changes: object) -> MessageContext:
    return a_context(sign_in_code="042424", code_lifetime_minutes=10, **changes)


def context_for(template: str, **changes: object) -> MessageContext:
    if template == SIGN_IN_CODE_TEMPLATE:
        return a_sign_in_context(**changes)
    return a_context(**changes)


@pytest.fixture(scope="module")
def welsh_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template directory whose messages/ are a copy of the Welsh templates."""
    root = tmp_path_factory.mktemp("cy")
    shutil.copytree(WELSH, root / "messages")
    return root


class WelshRenderer:
    """The shipped renderer, asked for Welsh: every message must come from the Welsh set."""

    def __init__(self) -> None:
        self._renderer = MessageRenderer(DEFAULT_TEMPLATE_DIR, reload_templates=False)

    def render(self, template: str, channel: Channel, context: MessageContext) -> RenderedMessage:
        message = self._renderer.render(template, channel, replace(context, language="cy"))
        assert (message.language, message.fallback_from) == ("cy", None)
        return message


@pytest.fixture(scope="module")
def welsh() -> WelshRenderer:
    return WelshRenderer()


def everything_the_reader_sees(message: RenderedMessage) -> str:
    return " ".join(part for part in (message.subject, message.text, message.html) if part)


def revealing_terms(context: MessageContext) -> list[str]:
    terms = [context.category, context.category.replace("_", " "), context.borough]
    return terms + [v for v in (context.force_name, context.unit_name, context.officer_name) if v]


# --- one Welsh template for every English one, each marked for review ----------------------


def test_there_is_a_welsh_template_for_every_english_one_and_no_other() -> None:
    # The email layout has no words of its own: the one layout serves every language.
    english = sorted(path.name for path in ENGLISH.glob("*.j2") if path.name != "_layout.html.j2")
    welsh = sorted(path.name for path in WELSH.glob("*.j2"))

    assert welsh == english and english


def test_every_welsh_template_begins_with_its_review_status() -> None:
    unmarked = [
        path.name
        for path in sorted(WELSH.glob("*.j2"))
        if not REVIEW_STATUS.match(path.read_text("utf-8"))
    ]

    assert unmarked == []


def test_the_review_status_is_the_draft_marker_or_a_named_dated_review() -> None:
    assert REVIEW_STATUS.match(REVIEW_MARKER + "\n")
    assert REVIEW_STATUS.match("{# cy: reviewed by Gwasanaeth Cyfieithu, 2027-01-15 #}\n")
    assert not REVIEW_STATUS.match("{# cy: reviewed #}\n")
    assert not REVIEW_STATUS.match("{# Sent when a crime is reported #}\n" + REVIEW_MARKER)


def test_the_welsh_templates_are_the_english_ones_a_policy_may_name(welsh_dir: Path) -> None:
    assert sorted(message_template_names(welsh_dir)) == ENGLISH_TEMPLATES


# --- every template renders under the renderer's rules --------------------------------------


@pytest.mark.parametrize("discreet", [False, True], ids=["plain", "discreet"])
@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("template", ENGLISH_TEMPLATES)
def test_every_welsh_template_renders_with_the_contact_number_and_the_reference(
    welsh: WelshRenderer, template: str, channel: Channel, discreet: bool
) -> None:
    message = welsh.render(template, channel, context_for(template, discreet=discreet))

    assert CONTACT_NUMBER in message.text
    if template == SIGN_IN_CODE_TEMPLATE:
        assert "042424" in message.text
        assert REFERENCE not in everything_the_reader_sees(message)
    else:
        assert REFERENCE in message.text
    if channel == Channel.EMAIL:
        assert message.subject
        assert message.html is not None
        assert '<html lang="cy">' in message.html
    else:
        assert "\n" not in message.text


@pytest.mark.parametrize("discreet", [False, True], ids=["plain", "discreet"])
@pytest.mark.parametrize("template", ENGLISH_TEMPLATES)
def test_every_welsh_sms_fits_two_segments_in_gsm_7_leaving_nothing_out(
    welsh: WelshRenderer, template: str, discreet: bool
) -> None:
    message = welsh.render(template, Channel.SMS, context_for(template, discreet=discreet))

    assert sms_encoding(message.text) == "GSM-7", message.text
    assert sms_segments(message.text) <= 2, message.text
    assert message.omitted_fields == ()


# Long values as a force in Wales records them, up to the lengths the renderer's tests call
# realistic (names 40, officer contact 30, free text 120): a bilingual force name, Welsh
# names and Welsh free text with letters outside GSM-7 (ï, â), which an SMS folds.
LONG_WELSH_VALUES: dict[str, object] = {
    "force_name": "Heddlu Dyfed-Powys / Dyfed-Powys Police",
    "victim_name": "Gwenllïan Angharad ap Llywelyn-Prydderch",
    "officer_name": "DS Rhiannon Ffion ap Gruffydd-Prydderch",
    "officer_contact": "rhiannon.gruffydd@dyfed-pp.uk",
    "unit_name": "Uned Gofal Dioddefwyr a Thystion Powys",
    "reason": "Nid oedd modd adnabod y sawl a ddrwgdybir: nid oedd tystion na thystiolaeth "
    "fforensig, ac roedd y fideo CCTV yn aneglur",
    "outcome": "Cafwyd yn euog yn Llys y Goron Abertawe a'i ddedfrydu i 18 mis o garchar, "
    "gyda gorchymyn atal am bum mlynedd â rhybudd",
    "update_interval_days": 10,
}


def test_the_long_welsh_values_are_within_the_realistic_lengths() -> None:
    limits = {"officer_contact": 30, "reason": 120, "outcome": 120}
    for field, value in LONG_WELSH_VALUES.items():
        if isinstance(value, str):
            assert len(value) <= limits.get(field, 40), field


@pytest.mark.parametrize("template", ENGLISH_TEMPLATES)
def test_a_welsh_sms_with_long_values_leaves_out_no_more_than_the_english_one(
    welsh: WelshRenderer, template: str
) -> None:
    context = context_for(template, **LONG_WELSH_VALUES)
    cymraeg = welsh.render(template, Channel.SMS, context)
    english = ENGLISH_RENDERER.render(template, Channel.SMS, context)

    assert sms_segments(cymraeg.text) <= 2
    assert set(cymraeg.omitted_fields) <= set(english.omitted_fields)


@pytest.mark.parametrize("template", ENGLISH_TEMPLATES)
def test_every_welsh_sms_template_keeps_its_own_wording_in_gsm_7(template: str) -> None:
    # A letter with a circumflex (â, ŵ, ŷ) or a diaeresis (ï) in the wording would send
    # every such SMS as UCS-2, 70 characters a segment.
    source = (WELSH / f"{template}.sms.j2").read_text("utf-8")
    wording = "\n".join(line for line in source.splitlines() if not line.startswith("{#"))

    assert sms_encoding(wording) == "GSM-7"


def test_the_discreet_sign_in_code_sms_is_one_segment(welsh: WelshRenderer) -> None:
    message = welsh.render(SIGN_IN_CODE_TEMPLATE, Channel.SMS, a_sign_in_context(discreet=True))

    assert sms_segments(message.text) == 1


@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("template", ENGLISH_TEMPLATES)
def test_a_welsh_discreet_message_says_nothing_about_what_it_is_about_in_either_language(
    welsh: WelshRenderer, template: str, channel: Channel
) -> None:
    context = context_for(template, discreet=True)
    message = welsh.render(template, channel, context)

    assert discreet_problems(everything_the_reader_sees(message), revealing_terms(context)) == []
    if template != SIGN_IN_CODE_TEMPLATE:
        assert "eich cyfeirnod" in message.text.lower()


@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("template", ENGLISH_TEMPLATES)
def test_a_welsh_message_is_written_in_welsh(
    welsh: WelshRenderer, template: str, channel: Channel
) -> None:
    text = welsh.render(template, channel, context_for(template)).text.lower()

    assert "ffoni" in text
    for english in ("please call", "your reference", "dear ", "questions?"):
        assert english not in text


@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("template", ["closure", "court_outcome", "not_investigated"])
def test_an_absent_detail_is_worded_as_a_call_in_welsh(
    welsh: WelshRenderer, template: str, channel: Channel
) -> None:
    context = a_context(reason=None, outcome=None)
    text = welsh.render(template, channel, context).text

    assert "Rheswm" not in text
    assert "anlyniad:" not in text
    assert "egluro" in text


# --- the update interval in Welsh -----------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "words"),
    [(None, "4 wythnos"), (28, "4 wythnos"), (7, "wythnos"), (10, "10 diwrnod"), (1, "diwrnod")],
)
def test_the_update_interval_is_given_in_welsh_words(
    welsh: WelshRenderer, days: int | None, words: str
) -> None:
    sms = welsh.render("periodic_update", Channel.SMS, a_context(update_interval_days=days))
    email = welsh.render("acknowledgement", Channel.EMAIL, a_context(update_interval_days=days))

    assert f"o fewn {words}." in sms.text
    assert f"o leiaf bob {words}," in email.text


def test_an_invalid_update_interval_fails_loudly_in_welsh_too(welsh: WelshRenderer) -> None:
    with pytest.raises(TemplateError, match="periodic_update"):
        welsh.render("periodic_update", Channel.SMS, a_context(update_interval_days=0))


# --- the discreet check knows the Welsh words ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Trais domestig", ["domestig", "trais"]),
        ("cam-drin domestig", ["cam-drin", "domestig"]),
        ("Trosedd casineb", ["casineb", "trosedd"]),
        ("ymosodiad rhywiol", ["rhywiol", "ymosodiad"]),
        ("Cafodd ei threisio", ["threisio"]),
        ("Neges gan yr Heddlu", ["heddlu"]),
        ("eich adroddiad am drosedd", ["drosedd"]),
        ("y sawl a ddrwgdybir", ["ddrwgdybir"]),
        ("mae'r llys wedi rhoi gwybod", ["llys"]),
        ("wedi'i arestio a'i gyhuddo", ["arestio", "gyhuddo"]),
    ],
)
def test_the_discreet_check_finds_welsh_words_and_their_mutations(
    text: str, found: list[str]
) -> None:
    assert forbidden_words_in(text) == sorted(found)


def test_the_discreet_check_passes_the_welsh_discreet_wording() -> None:
    text = (
        "Helo, dyma ddiweddariad am eich cyfeirnod 01/123456/26. "
        "Ffoniwch 101 pan fydd yn ddiogel i chi wneud hynny."
    )

    assert forbidden_words_in(text) == []


def test_a_welsh_discreet_template_that_names_the_police_is_refused(tmp_path: Path) -> None:
    (tmp_path / "messages").mkdir()
    (tmp_path / "messages" / "neges.sms.j2").write_text(
        "Neges gan yr heddlu: {{ reference }}, ffoniwch {{ contact_number }}.", "utf-8"
    )
    renderer = MessageRenderer(tmp_path)

    renderer.render("neges", Channel.SMS, a_context(discreet=False))
    with pytest.raises(TemplateError, match="heddlu"):
        renderer.render("neges", Channel.SMS, a_context(discreet=True))
