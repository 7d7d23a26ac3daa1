"""SMS text: the GSM-7 alphabet, which encoding a text needs, how many parts it is sent
as, and folding letters outside GSM-7 to their base letters.

A text entirely in the GSM 03.38 alphabet goes as 7-bit septets (160 a message, 153 a
part when split); one character outside it sends the whole text as UCS-2 (70, 67 a
part). The renderer uses these to keep an SMS within its segments (see
messaging.rendering).
"""

from __future__ import annotations

import unicodedata
from typing import Literal

# GSM 03.38 default alphabet (without ESC, which only introduces the extension table).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Sent as ESC + character, so each costs two septets.
_GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
_GSM_ALPHABET = _GSM_BASIC | _GSM_EXTENSION

_GSM_SINGLE_SEPTETS = 160
_GSM_PART_SEPTETS = 153
_UCS2_SINGLE_UNITS = 70
_UCS2_PART_UNITS = 67

_PLAIN_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u2007": " ",
        "\u2009": " ",
        "\u202f": " ",
    }
)
# Letters that Unicode does not decompose into a base letter plus accents.
_FOLD_SPECIAL = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Ħ": "H",
        "ħ": "h",
        "\u0131": "i",  # Turkish dotless i
        "Œ": "OE",
        "œ": "oe",
        "Þ": "Th",
        "þ": "th",
        "Ð": "D",
        "ð": "d",
    }
)


def is_gsm(text: str) -> bool:
    return _GSM_ALPHABET.issuperset(text)


def sms_encoding(text: str) -> Literal["GSM-7", "UCS-2"]:
    return "GSM-7" if is_gsm(text) else "UCS-2"


def sms_segments(text: str) -> int:
    """How many SMS parts `text` is sent as; an empty text is still one message."""
    if is_gsm(text):
        if _GSM_EXTENSION.isdisjoint(text):
            # One septet a character: no escape to keep whole across parts.
            return _count_even_parts(len(text), _GSM_SINGLE_SEPTETS, _GSM_PART_SEPTETS)
        sizes = [2 if char in _GSM_EXTENSION else 1 for char in text]
        return _count_parts(sizes, _GSM_SINGLE_SEPTETS, _GSM_PART_SEPTETS)
    sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return _count_parts(sizes, _UCS2_SINGLE_UNITS, _UCS2_PART_UNITS)


def _count_even_parts(length: int, single: int, per_part: int) -> int:
    """`_count_parts` for `length` characters of one unit each."""
    return 1 if length <= single else -(-length // per_part)


def _count_parts(sizes: list[int], single: int, per_part: int) -> int:
    if sum(sizes) <= single:
        return 1
    # Encoders never split an escape sequence or a surrogate pair across parts (handsets
    # would show garbage), so such a character that does not fit starts the next part.
    parts, used = 1, 0
    for size in sizes:
        if used + size > per_part:
            parts += 1
            used = 0
        used += size
    return parts


def fold_to_gsm(value: str) -> str:
    """`value` with letters outside GSM-7 replaced by their base letters where possible."""
    folded: list[str] = []
    for char in unicodedata.normalize("NFC", value):
        if is_gsm(char):
            folded.append(char)
            continue
        special = char.translate(_FOLD_SPECIAL)
        if special != char:
            folded.append(special)
            continue
        base = "".join(
            part for part in unicodedata.normalize("NFKD", char) if not unicodedata.combining(part)
        )
        folded.append(base if base and is_gsm(base) else char)
    return "".join(folded)


def plain_sms_text(text: str) -> str:
    # Templates may wrap SMS wording over several lines for readability; an SMS is one
    # paragraph. NFC first so that "e" + combining accent counts as the GSM letter "é".
    normalised = unicodedata.normalize("NFC", text).translate(_PLAIN_PUNCTUATION)
    return " ".join(normalised.split())
