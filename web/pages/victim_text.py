"""The victim pages' words in each language they are offered in: one catalogue.

Every string the victim pages show is here, keyed by a short name, in English and in
Welsh (the Welsh is marked for review by a translator, as the Welsh message templates
are; its terms follow theirs, docs/welsh.md). A page is drawn with `text_for(language)`,
which the templates call as `t(key, **values)`; values are escaped, the catalogue's own
markup (a link, a bold reference) is kept. A key missing in a language falls back to
English, as a message template does.

Adding a language: its member in standards.vocabulary.Language, a column of strings
here (`CATALOGUE[key][code]`), and the code in the policy's `languages`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from markupsafe import Markup

from standards.vocabulary import DEFAULT_LANGUAGE, Language

EN: Final = Language.ENGLISH.value
CY: Final = Language.WELSH.value

# key -> language -> text. English first; "{name}" is a value the page gives.
CATALOGUE: Final[dict[str, dict[str, str]]] = {
    # The layout.
    "service": {EN: "Your updates", CY: "Eich diweddariadau"},
    "exit.landmark": {EN: "Leave this site quickly", CY: "Gadael y wefan hon yn gyflym"},
    "exit.emergency": {EN: "Emergency", CY: "Argyfwng"},
    "exit.button": {EN: "Exit this page", CY: "Gadael y dudalen hon"},
    "exit.hint": {EN: "Or press Shift 3 times", CY: "Neu pwyswch Shift 3 gwaith"},
    "language.landmark": {EN: "Language", CY: "Iaith"},
    "footer.call": {
        EN: "If you need to talk to someone, call {number}. In an emergency, call 999.",
        CY: "Os oes angen i chi siarad â rhywun, ffoniwch {number}. Mewn argyfwng, ffoniwch 999.",
    },
    "footer.shared": {
        EN: 'On a shared computer, use "Exit this page" or sign out when you have finished.',
        CY: 'Ar gyfrifiadur a rennir, defnyddiwch "Gadael y dudalen hon" neu allgofnodwch '
        "pan fyddwch wedi gorffen.",
    },
    # Signing in.
    "sign_in.title": {EN: "Sign in", CY: "Mewngofnodi"},
    "sign_in.signed_out": {EN: "You have signed out", CY: "Rydych wedi allgofnodi"},
    "sign_in.heading": {EN: "Check for updates", CY: "Gwirio am ddiweddariadau"},
    "sign_in.intro": {
        EN: "Enter your reference number. If we can contact you safely, we will send a "
        "6-digit code to your phone or email address.",
        CY: "Rhowch eich cyfeirnod. Os gallwn gysylltu â chi'n ddiogel, byddwn yn anfon "
        "cod 6 digid i'ch ffôn neu i'ch cyfeiriad e-bost.",
    },
    "reference.label": {EN: "Reference number", CY: "Cyfeirnod"},
    "reference.hint": {EN: "For example, 01/123456/26", CY: "Er enghraifft, 01/123456/26"},
    "sign_in.button": {EN: "Send me a code", CY: "Anfonwch god ataf"},
    "sign_in.no_code_heading": {EN: "If you cannot get a code", CY: "Os na allwch gael cod"},
    "sign_in.no_code": {
        EN: "If you asked us not to contact you, or we have no safe way to reach you, we "
        "cannot send a code. Call {number} instead and give your reference number.",
        CY: "Os gofynnoch i ni beidio â chysylltu â chi, neu os nad oes gennym ffordd "
        "ddiogel o'ch cyrraedd, ni allwn anfon cod. Ffoniwch {number} yn lle hynny a "
        "rhowch eich cyfeirnod.",
    },
    # The code.
    "code.title": {EN: "Enter your code", CY: "Rhowch eich cod"},
    "code.sent": {
        EN: "If the reference <strong>{reference}</strong> is one we know and we can "
        "contact you safely, we have sent a 6-digit code by text message or email. It can "
        "take a few minutes to arrive.",
        CY: "Os yw'r cyfeirnod <strong>{reference}</strong> yn un rydyn ni'n ei adnabod "
        "ac y gallwn gysylltu â chi'n ddiogel, rydyn ni wedi anfon cod 6 digid drwy neges "
        "destun neu e-bost. Gall gymryd ychydig funudau i gyrraedd.",
    },
    "code.works": {
        EN: "The code works once, for {minutes} minutes.",
        CY: "Mae'r cod yn gweithio unwaith, am {minutes} munud.",
    },
    "code.label": {EN: "Code", CY: "Cod"},
    "code.hint": {EN: "6 digits, for example 123456", CY: "6 digid, er enghraifft 123456"},
    "code.button": {EN: "Continue", CY: "Parhau"},
    "code.none_heading": {EN: "If no code arrives", CY: "Os na fydd cod yn cyrraedd"},
    "code.none_safe": {
        EN: "We only send codes at the times you told us are safe to contact you. If you "
        "asked us not to contact you, we cannot send one.",
        CY: "Dim ond ar yr adegau y dywedoch wrthym eu bod yn ddiogel i gysylltu â chi y "
        "byddwn yn anfon codau. Os gofynnoch i ni beidio â chysylltu â chi, ni allwn "
        "anfon un.",
    },
    "code.none_call": {
        EN: 'Call {number} and give your reference number, or <a href="{path}">ask for a '
        "new code</a>.",
        CY: 'Ffoniwch {number} a rhowch eich cyfeirnod, neu <a href="{path}">gofynnwch am '
        "god newydd</a>.",
    },
    # What was wrong with a form: the error summary's title, the page title's prefix.
    "error.summary": {EN: "There is a problem", CY: "Mae yna broblem"},
    "error.prefix": {EN: "Error", CY: "Gwall"},
    # What was wrong with a sign-in form (web.pages.victim).
    "error.reference": {
        EN: "Enter your reference number as it was given to you, for example 01/123456/26",
        CY: "Rhowch eich cyfeirnod fel y cafodd ei roi i chi, er enghraifft 01/123456/26",
    },
    "error.code_format": {
        EN: "Enter the 6-digit code we sent you, for example 123456",
        CY: "Rhowch y cod 6 digid a anfonwyd atoch, er enghraifft 123456",
    },
    "error.wrong_code": {
        EN: "The code is wrong or has expired. Check the newest message we sent you, or ask "
        "for a new code",
        CY: "Mae'r cod yn anghywir neu wedi dod i ben. Edrychwch ar y neges ddiweddaraf a "
        "anfonwyd atoch, neu gofynnwch am god newydd",
    },
    "error.too_many_codes": {
        EN: "You have asked for too many codes from this device. Try again after {time}, or "
        "call {number}",
        CY: "Rydych wedi gofyn am ormod o godau o'r ddyfais hon. Rhowch gynnig arall ar ôl "
        "{time}, neu ffoniwch {number}",
    },
    "error.locked": {
        EN: "You have entered a wrong code too many times on this device. You can try again "
        "after {time}, ask for a new code, or call {number}",
        CY: "Rydych wedi rhoi cod anghywir ormod o weithiau ar y ddyfais hon. Gallwch roi "
        "cynnig arall ar ôl {time}, gofyn am god newydd, neu ffonio {number}",
    },
    # The case page (web.pages.victim_case).
    "case.title": {EN: "Home", CY: "Hafan"},
    "notice.asked": {
        EN: "We have asked for someone to get in touch",
        CY: "Rydyn ni wedi gofyn i rywun gysylltu â chi",
    },
    "notice.asked_by": {
        EN: "We will reply by {by}, in the way and at the times you told us are safe.",
        CY: "Byddwn yn ateb erbyn {by}, yn y ffordd ac ar yr adegau y dywedoch wrthym eu "
        "bod yn ddiogel.",
    },
    "notice.asked_within": {
        EN: "We will reply within {within}, in the way and at the times you told us are safe.",
        CY: "Byddwn yn ateb o fewn {within}, yn y ffordd ac ar yr adegau y dywedoch wrthym "
        "eu bod yn ddiogel.",
    },
    "notice.asked_someone": {
        EN: "Someone will reply in the way and at the times you told us are safe.",
        CY: "Bydd rhywun yn ateb yn y ffordd ac ar yr adegau y dywedoch wrthym eu bod yn ddiogel.",
    },
    "notice.already": {EN: "You have already asked today", CY: "Rydych eisoes wedi gofyn heddiw"},
    "reply.by": {EN: "We will reply by {by}.", CY: "Byddwn yn ateb erbyn {by}."},
    "reply.someone": {EN: "Someone will get in touch.", CY: "Bydd rhywun yn cysylltu â chi."},
    "notice.ask_tomorrow": {EN: "You can ask again tomorrow.", CY: "Gallwch ofyn eto yfory."},
    "notice.preferences": {
        EN: "Your preferences have been saved",
        CY: "Mae eich dewisiadau wedi'u cadw",
    },
    "notice.preferences_used": {
        EN: "We will use them for every message from now on.",
        CY: "Byddwn yn eu defnyddio ar gyfer pob neges o hyn ymlaen.",
    },
    "notice.unchanged": {
        EN: "Your preferences are the same as before",
        CY: "Mae eich dewisiadau yr un fath ag o'r blaen",
    },
    "case.heading_discreet": {EN: "Your reference {reference}", CY: "Eich cyfeirnod {reference}"},
    "case.heading": {
        EN: "Your crime report {reference}",
        CY: "Eich adroddiad trosedd {reference}",
    },
    "case.status": {EN: "Status", CY: "Statws"},
    "case.open": {EN: "Open: we are working on it", CY: "Ar agor: rydyn ni'n gweithio arno"},
    "case.closed": {EN: "Closed", CY: "Ar gau"},
    "case.closed_on": {EN: "Closed on {day}", CY: "Ar gau ers {day}"},
    "case.crime_type": {EN: "Crime type", CY: "Math o drosedd"},
    "case.team": {EN: "Team", CY: "Tîm"},
    "case.looking_after": {
        EN: "Person looking after your report",
        CY: "Y person sy'n gofalu am eich adroddiad",
    },
    "case.officer": {EN: "Officer dealing with it", CY: "Y swyddog sy'n gyfrifol am eich achos"},
    "case.no_one_named": {
        EN: "No one is named yet. Call {number} with your reference.",
        CY: "Nid oes neb wedi'i enwi eto. Ffoniwch {number} gyda'ch cyfeirnod.",
    },
    "case.next_update": {EN: "Next update due", CY: "Y diweddariad nesaf erbyn"},
    "case.next_update_by": {EN: "By {day}", CY: "Erbyn {day}"},
    "case.no_update": {EN: "No update is scheduled", CY: "Nid oes diweddariad wedi'i drefnu"},
    "update.heading": {EN: "Ask for an update", CY: "Gofyn am ddiweddariad"},
    "update.asked_today": {
        EN: "You have asked for an update today.",
        CY: "Rydych wedi gofyn am ddiweddariad heddiw.",
    },
    "update.asked_by": {
        EN: "You asked for an update. We will reply by {by}.",
        CY: "Fe ofynnoch am ddiweddariad. Byddwn yn ateb erbyn {by}.",
    },
    "update.within": {
        EN: "We will reply within {within}, in the way and at the times you told us are safe. "
        "You can ask once a day.",
        CY: "Byddwn yn ateb o fewn {within}, yn y ffordd ac ar yr adegau y dywedoch wrthym "
        "eu bod yn ddiogel. Gallwch ofyn unwaith y dydd.",
    },
    "update.someone": {
        EN: "We will ask someone to get in touch with you, in the way and at the times you "
        "told us are safe. You can ask once a day.",
        CY: "Byddwn yn gofyn i rywun gysylltu â chi, yn y ffordd ac ar yr adegau y dywedoch "
        "wrthym eu bod yn ddiogel. Gallwch ofyn unwaith y dydd.",
    },
    "update.button": {EN: "Request an update", CY: "Gofyn am ddiweddariad"},
    "prefs.heading": {EN: "Your preferences", CY: "Eich dewisiadau"},
    "prefs.how": {EN: "How should we contact you?", CY: "Sut dylen ni gysylltu â chi?"},
    "prefs.email": {EN: "Email", CY: "E-bost"},
    "prefs.no_email": {
        EN: "(we do not have an email address for you)",
        CY: "(nid oes gennym gyfeiriad e-bost i chi)",
    },
    "prefs.sms": {EN: "Text message", CY: "Neges destun"},
    "prefs.no_phone": {
        EN: "(we do not have a mobile number for you)",
        CY: "(nid oes gennym rif ffôn symudol i chi)",
    },
    "prefs.no_texts": {
        EN: "Do not send me text messages",
        CY: "Peidiwch ag anfon negeseuon testun ataf",
    },
    "prefs.safe": {
        EN: "When is it safe for us to contact you?",
        CY: "Pryd mae'n ddiogel i ni gysylltu â chi?",
    },
    "prefs.safe_hint": {
        EN: "Use the 24-hour clock, for example 09:00 to 18:00. Leave both empty if any time "
        "is safe.",
        CY: "Defnyddiwch y cloc 24 awr, er enghraifft 09:00 i 18:00. Gadewch y ddau'n wag "
        "os yw unrhyw adeg yn ddiogel.",
    },
    "prefs.safe_from": {EN: "Safe from", CY: "Yn ddiogel o"},
    "prefs.safe_until": {EN: "Safe until", CY: "Yn ddiogel tan"},
    "prefs.language": {
        EN: "Which language should we write to you in?",
        CY: "Ym mha iaith y dylen ni ysgrifennu atoch chi?",
    },
    # standards.contact.contact_choice's problems, by their code.
    "prefs.error.no_channel": {
        EN: "Choose how we should contact you",
        CY: "Dewiswch sut dylen ni gysylltu â chi",
    },
    "prefs.error.sms_refused": {
        EN: "Choose email, or untick 'Do not send me text messages'",
        CY: "Dewiswch e-bost, neu dad-diciwch 'Peidiwch ag anfon negeseuon testun ataf'",
    },
    "prefs.error.no_email_address": {
        EN: "We do not have an email address for you. Choose another way, or call {number} "
        "to give us one",
        CY: "Nid oes gennym gyfeiriad e-bost i chi. Dewiswch ffordd arall, neu ffoniwch "
        "{number} i roi un i ni",
    },
    "prefs.error.no_sms_address": {
        EN: "We do not have a mobile number for you. Choose another way, or call {number} "
        "to give us one",
        CY: "Nid oes gennym rif ffôn symudol i chi. Dewiswch ffordd arall, neu ffoniwch "
        "{number} i roi un i ni",
    },
    "prefs.error.not_a_time": {
        EN: "Enter a time on the 24-hour clock, for example 09:00 or 18:30",
        CY: "Rhowch amser ar y cloc 24 awr, er enghraifft 09:00 neu 18:30",
    },
    "prefs.error.one_time": {
        EN: "Enter both times, or leave both empty if any time is safe",
        CY: "Rhowch y ddau amser, neu gadewch y ddau yn wag os yw unrhyw amser yn ddiogel",
    },
    "prefs.error.same_times": {
        EN: "The safe time must end at a different time",
        CY: "Rhaid i'r amser diogel ddod i ben ar amser gwahanol",
    },
    "prefs.language_error": {
        EN: "Choose a language from the list",
        CY: "Dewiswch iaith o'r rhestr",
    },
    "prefs.button": {EN: "Save preferences", CY: "Cadw'r dewisiadau"},
    "prefs.change_contact": {
        EN: "To change your email address or phone number, call {number} when it is safe to do so.",
        CY: "I newid eich cyfeiriad e-bost neu'ch rhif ffôn, ffoniwch {number} pan fydd yn "
        "ddiogel gwneud hynny.",
    },
    "messages.heading": {
        EN: "Messages we have sent you",
        CY: "Negeseuon rydyn ni wedi'u hanfon atoch",
    },
    "messages.withheld": {
        EN: "A message was sent to you. Call {number} if you would like to hear what it said.",
        CY: "Anfonwyd neges atoch. Ffoniwch {number} os hoffech glywed beth oedd ynddi.",
    },
    "messages.none": {
        EN: "We have not sent you any messages yet.",
        CY: "Nid ydym wedi anfon unrhyw negeseuon atoch eto.",
    },
    "sign_out.button": {EN: "Sign out", CY: "Allgofnodi"},
}

# The `lang` attribute of a page in each language.
HTML_LANG: Final[dict[str, str]] = {EN: "en-GB", CY: "cy"}


def text(language: str, key: str, **values: object) -> Markup:
    """The catalogue's `key` in `language` (else English), its values escaped."""
    entry = CATALOGUE[key]
    return Markup(entry.get(language) or entry[DEFAULT_LANGUAGE]).format(**values)


def text_for(language: str) -> Callable[..., Markup]:
    """`t(key, **values)` for the pages of one language."""

    def t(key: str, **values: object) -> Markup:
        return text(language, key, **values)

    return t


def missing_strings(languages: list[str]) -> list[tuple[str, str]]:
    """Each (language, key) with no string of its own (shown in English instead)."""
    return [
        (language, key)
        for language in languages
        for key, entry in CATALOGUE.items()
        if language not in entry
    ]
