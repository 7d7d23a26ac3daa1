"""Validating victims' contact details at the edge: E.164 phones, real email addresses."""

from __future__ import annotations

import re
from datetime import time

import phonenumbers
from email_validator import EmailNotValidError, validate_email

OFCOM_DRAMA_MOBILES = re.compile(r"^\+447700900\d{3}$")
SAFE_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def normalise_phone(raw: str, region: str = "GB") -> str:
    """A mobile or fixed number as E.164; UK numbers may be written nationally (07700 900123)."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise ValueError(
            f"phone {raw!r} is not a phone number ({error}); "
            "give it in E.164 form, e.g. +447700900123"
        ) from error
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    # Ofcom reserves 07700 900000-900999 for drama and tests; phonenumbers calls
    # them invalid, but rehearsals and tests must be able to use them.
    # The drama check first: it is a regular expression, is_valid_number a costly search.
    if not (OFCOM_DRAMA_MOBILES.match(e164) or phonenumbers.is_valid_number(number)):
        raise ValueError(
            f"phone {raw!r} is not a valid number; give it in E.164 form, e.g. +447700900123"
        )
    return e164


def normalise_email(raw: str) -> str:
    try:
        # No DNS look-up: intake must not depend on the network.
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"email {raw!r} is not a valid address: {error}") from error


def parse_safe_hours(raw: str) -> tuple[time, time]:
    match = SAFE_HOURS.match(raw)
    if not match:
        raise ValueError(f"safe_hours {raw!r} must look like 09:00-17:00 (local time)")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError as error:
        raise ValueError(f"safe_hours {raw!r}: {error}") from error
    if start == end:
        raise ValueError(f"safe_hours {raw!r} opens and closes at the same time")
    return start, end
