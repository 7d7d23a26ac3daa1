"""Discreet wording: what in a text would tell someone else reading the victim's phone or
screen what it is about (police vocabulary, crime types, and the case's own revealing
terms such as its borough or unit).

The renderer refuses a discreet message that says any of it; the victims' pages leave
out whatever would. The words are English and Welsh (the Welsh templates in
templates/messages/cy/ are checked the same way): a Welsh word is listed with the
mutated forms it takes after other words ("trosedd", "drosedd", "nhrosedd", "throsedd"),
and a hyphenated compound such as "cam-drin" is found whole as well as word by word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

# Words that would tell someone else reading the phone what a discreet message is about.
# The brief's list, their inflections, and the crime types and investigation vocabulary.
ENGLISH_DISCREET_FORBIDDEN_WORDS: frozenset[str] = frozenset(
    {
        "police",
        "policing",
        "crime",
        "crimes",
        "criminal",
        "officer",
        "officers",
        "victim",
        "victims",
        "court",
        "courts",
        "arrest",
        "arrested",
        "arrests",
        "charge",
        "charged",
        "charges",
        "abuse",
        "abused",
        "abuser",
        "investigation",
        "investigating",
        "detective",
        "constable",
        "offence",
        "offender",
        "suspect",
        "assault",
        "assaulted",
        "burglary",
        "domestic",
        "sexual",
        "hate",
        "violence",
        "collision",
        "traffic",
    }
)

# The same in Welsh, each with its soft, nasal and aspirate mutations (and the "h" a vowel
# takes after "ei", "ein", "eu"): trais domestig, cam-drin domestig, trosedd casineb,
# ymosodiad rhywiol, treisio, and the police and court vocabulary. Kept to words that say
# what the message is about, not everyday ones ("achos", "cyfeirnod", "ffoniwch").
WELSH_DISCREET_FORBIDDEN_WORDS: frozenset[str] = frozenset(
    {
        # heddlu, plismon: police
        "heddlu",
        "heddluoedd",
        "heddwas",
        "heddweision",
        "plismon",
        "blismon",
        "mhlismon",
        "phlismon",
        "plismyn",
        "blismyn",
        "mhlismyn",
        "phlismyn",
        "plismones",
        "blismones",
        "plismona",
        "blismona",
        "mhlismona",
        "phlismona",
        "cwnstabl",
        "gwnstabl",
        "nghwnstabl",
        "chwnstabl",
        "ditectif",
        "dditectif",
        "nitectif",
        # trosedd: crime, offence; troseddol: criminal; troseddwr: offender
        "trosedd",
        "drosedd",
        "nhrosedd",
        "throsedd",
        "troseddau",
        "droseddau",
        "nhroseddau",
        "throseddau",
        "troseddol",
        "droseddol",
        "nhroseddol",
        "throseddol",
        "troseddwr",
        "droseddwr",
        "nhroseddwr",
        "throseddwr",
        "troseddwyr",
        "droseddwyr",
        "nhroseddwyr",
        "throseddwyr",
        "tramgwydd",
        "dramgwydd",
        "nhramgwydd",
        "thramgwydd",
        # swyddog: officer
        "swyddog",
        "swyddogion",
        # dioddefwr: victim
        "dioddefwr",
        "ddioddefwr",
        "nioddefwr",
        "dioddefwyr",
        "ddioddefwyr",
        "nioddefwyr",
        "dioddefwraig",
        "ddioddefwraig",
        "nioddefwraig",
        # llys: court
        "llys",
        "lys",
        "llysoedd",
        "lysoedd",
        # arestio: arrest
        "arestio",
        "harestio",
        "arestiwyd",
        "arestiodd",
        "arestiad",
        "harestiad",
        "arestiadau",
        # cyhuddo: charge
        "cyhuddo",
        "gyhuddo",
        "nghyhuddo",
        "chyhuddo",
        "cyhuddwyd",
        "gyhuddwyd",
        "nghyhuddwyd",
        "chyhuddwyd",
        "cyhuddiad",
        "gyhuddiad",
        "nghyhuddiad",
        "chyhuddiad",
        "cyhuddiadau",
        "gyhuddiadau",
        "nghyhuddiadau",
        "chyhuddiadau",
        # erlyn: prosecute
        "erlyn",
        "herlyn",
        "erlyniad",
        "herlyniad",
        # cam-drin, camdriniaeth: abuse
        "cam-drin",
        "gam-drin",
        "ngham-drin",
        "cham-drin",
        "camdrin",
        "gamdrin",
        "nghamdrin",
        "chamdrin",
        "camdriniaeth",
        "gamdriniaeth",
        "nghamdriniaeth",
        "chamdriniaeth",
        "camdriniwr",
        "gamdriniwr",
        "nghamdriniwr",
        "chamdriniwr",
        # ymchwiliad, ymchwilio: investigation, investigating
        "ymchwiliad",
        "hymchwiliad",
        "ymchwiliadau",
        "hymchwiliadau",
        "ymchwilio",
        "hymchwilio",
        # a ddrwgdybir, drwgdybiedig: suspect
        "drwgdybir",
        "ddrwgdybir",
        "nrwgdybir",
        "drwgdybiedig",
        "ddrwgdybiedig",
        "nrwgdybiedig",
        # ymosodiad: assault
        "ymosodiad",
        "hymosodiad",
        "ymosodiadau",
        "hymosodiadau",
        "ymosodwyd",
        # bwrgleriaeth, lladrad: burglary, theft
        "bwrgleriaeth",
        "fwrgleriaeth",
        "mwrgleriaeth",
        "byrgleriaeth",
        "fyrgleriaeth",
        "myrgleriaeth",
        "lladrad",
        "ladrad",
        "lladradau",
        "ladradau",
        # domestig: domestic
        "domestig",
        "ddomestig",
        # rhywiol: sexual
        "rhywiol",
        "rywiol",
        # casineb: hate
        "casineb",
        "gasineb",
        "nghasineb",
        "chasineb",
        # trais, treisio: violence, rape
        "trais",
        "drais",
        "nhrais",
        "thrais",
        "treisio",
        "dreisio",
        "nhreisio",
        "threisio",
        "treisiwyd",
        "dreisiwyd",
        "treisiol",
        "dreisiol",
        "nhreisiol",
        "threisiol",
        # gwrthdrawiad: collision; traffig: traffic
        "gwrthdrawiad",
        "wrthdrawiad",
        "ngwrthdrawiad",
        "gwrthdrawiadau",
        "wrthdrawiadau",
        "traffig",
        "draffig",
        "nhraffig",
        "thraffig",
    }
)

# Every word the discreet check refuses, in either language.
DISCREET_FORBIDDEN_WORDS: frozenset[str] = (
    ENGLISH_DISCREET_FORBIDDEN_WORDS | WELSH_DISCREET_FORBIDDEN_WORDS
)

_WORD = re.compile(r"[^\W\d_]+")
# Words joined by hyphens ("cam-drin"), found whole besides each word on its own.
_COMPOUND = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)+")


def forbidden_words_in(text: str) -> list[str]:
    words = {word.lower() for word in (*_WORD.findall(text), *_COMPOUND.findall(text))}
    return sorted(words & DISCREET_FORBIDDEN_WORDS)


@lru_cache(maxsize=1024)
def _term_pattern(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)


def terms_named_in(text: str, terms: Iterable[str]) -> list[str]:
    return [term for term in terms if term.strip() and _term_pattern(term).search(text)]


def discreet_problems(text: str, revealing_terms: Iterable[str] = ()) -> list[str]:
    """What in `text` would tell someone else what it is about: the forbidden words it says
    and the revealing terms (a crime type, a borough, a unit) it names; empty if none."""
    return [f"says {word}" for word in forbidden_words_in(text)] + [
        f"names {term!r}" for term in terms_named_in(text, revealing_terms)
    ]
