"""Discreet wording: what in a text would tell someone else reading the victim's phone or
screen what it is about (police vocabulary, crime types, and the case's own revealing
terms such as its borough or unit).

The renderer refuses a discreet message that says any of it; the victims' pages leave
out whatever would.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

# Words that would tell someone else reading the phone what a discreet message is about.
# The brief's list, their inflections, and the crime types and investigation vocabulary.
DISCREET_FORBIDDEN_WORDS: frozenset[str] = frozenset(
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

_WORD = re.compile(r"[^\W\d_]+")


def forbidden_words_in(text: str) -> list[str]:
    return sorted({word.lower() for word in _WORD.findall(text)} & DISCREET_FORBIDDEN_WORDS)


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
