"""The rules of victims' sign-in, with a clock of the test's own; the code message's words."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from messaging.discreet import discreet_problems
from messaging.rendering import (
    DEFAULT_TEMPLATE_DIR,
    SIGN_IN_CODE_TEMPLATE,
    MessageContext,
    MessageRenderer,
    TemplateError,
)
from service.victim_case import london_date, london_time
from standards.victim_sign_in import (
    FIRST_BACKOFF,
    SignInRules,
    WrongCodes,
    address_may_request,
    address_may_request_again_at,
    after_sign_in,
    after_wrong_code,
    code_expires_at,
    code_matches,
    code_usable,
    device_may_be_sent,
    hash_code,
    locked,
    new_code,
    normalise_code,
    reference_may_be_sent_at,
    session_active,
    update_request_key,
)
from standards.vocabulary import Channel

RULES = SignInRules()
T0 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_a_code_is_six_digits_leading_zeros_kept() -> None:
    assert new_code(lambda bound: 42) == "000042"
    assert new_code(lambda bound: bound - 1) == "999999"
    assert all(len(new_code()) == 6 and new_code().isdigit() for _ in range(50))


@pytest.mark.parametrize(
    ("typed", "code"),
    [("123456", "123456"), (" 123 456 ", "123456"), ("123-456", "123456"), ("012345", "012345")],
)
def test_a_typed_code_may_have_spaces_or_a_dash(typed: str, code: str) -> None:
    assert normalise_code(typed) == code


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_anything_but_six_digits_is_not_a_code(typed: str) -> None:
    assert normalise_code(typed) is None


def test_only_a_salted_digest_is_kept_and_only_the_right_code_matches_it() -> None:
    stored = hash_code("123456")
    assert "123456" not in stored
    assert code_matches("123456", stored)
    assert not code_matches("123457", stored)
    assert hash_code("123456") != stored  # a fresh salt each time
    assert hash_code("123456", b"s" * 16) == hash_code("123456", b"s" * 16)
    assert not code_matches("123456", "not-a-digest")


def test_a_code_lives_ten_minutes_and_once() -> None:
    expires = code_expires_at(T0, RULES)
    assert expires == T0 + timedelta(minutes=10)
    assert code_usable(expires, None, T0 + timedelta(minutes=9, seconds=59))
    assert not code_usable(expires, None, expires)
    assert not code_usable(expires, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))


def test_the_fifth_wrong_code_locks_the_reference_for_fifteen_minutes() -> None:
    state = WrongCodes()
    for minute in range(4):
        state = after_wrong_code(state, T0 + timedelta(minutes=minute), RULES)
        assert not locked(state, T0 + timedelta(minutes=minute))
    fifth = T0 + timedelta(minutes=4)
    state = after_wrong_code(state, fifth, RULES)
    assert state.locked_until == fifth + timedelta(minutes=15)
    assert locked(state, fifth + timedelta(minutes=14, seconds=59))
    assert not locked(state, fifth + timedelta(minutes=15))


def test_after_a_lock_ends_the_count_starts_again() -> None:
    state = WrongCodes()
    for _ in range(5):
        state = after_wrong_code(state, T0, RULES)
    later = T0 + timedelta(minutes=15)
    state = after_wrong_code(state, later, RULES)
    assert state.count == 1 and not locked(state, later)


def test_old_wrong_codes_are_forgotten_and_signing_in_forgets_them() -> None:
    state = WrongCodes()
    for _ in range(4):
        state = after_wrong_code(state, T0, RULES)
    state = after_wrong_code(state, T0 + timedelta(minutes=15), RULES)
    assert state.count == 1 and not locked(state, T0 + timedelta(minutes=15))
    assert after_sign_in() == WrongCodes()


def test_an_address_may_ask_ten_times_an_hour_and_is_told_when_it_may_again() -> None:
    asked = [T0 + timedelta(minutes=minute) for minute in range(10)]
    now = T0 + timedelta(minutes=30)
    assert address_may_request(asked[:9], now, RULES)
    assert not address_may_request(asked, now, RULES)
    again = address_may_request_again_at(asked, now, RULES)
    assert again == T0 + timedelta(minutes=60)
    assert address_may_request(asked, again, RULES)


def test_one_device_is_sent_at_most_three_codes_for_a_reference_an_hour() -> None:
    sent = [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    assert device_may_be_sent(sent[:2], T0 + timedelta(minutes=3), RULES)
    assert not device_may_be_sent(sent, T0 + timedelta(minutes=3), RULES)
    assert device_may_be_sent(sent, T0 + timedelta(minutes=60), RULES)


def test_three_codes_to_a_victim_go_at_once_and_later_ones_are_spaced_out_not_refused() -> None:
    now = T0 + timedelta(minutes=3)
    sent = [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    assert reference_may_be_sent_at(sent[:2], now, RULES) == now
    # The fourth waits a minute after the third, the fifth two after the fourth...
    assert reference_may_be_sent_at(sent, now, RULES) == sent[-1] + FIRST_BACKOFF
    fourth = [*sent, T0 + timedelta(minutes=4)]
    assert reference_may_be_sent_at(fourth, fourth[-1], RULES) == fourth[-1] + 2 * FIRST_BACKOFF


def test_however_many_devices_ask_the_victims_next_code_waits_at_most_the_lock_duration() -> None:
    flood = [T0 + timedelta(seconds=second) for second in range(0, 3000, 10)]
    now = flood[-1]
    may_at = reference_may_be_sent_at(flood, now, RULES)
    assert now < may_at <= now + RULES.lock_duration
    # Once the flood has aged out of the window, codes go at once again.
    later = flood[-1] + RULES.request_window
    assert reference_may_be_sent_at(flood, later, RULES) == later


def test_a_session_ends_after_thirty_idle_minutes_or_when_ended() -> None:
    assert session_active(T0, None, T0 + timedelta(minutes=29, seconds=59), RULES)
    assert not session_active(T0, None, T0 + timedelta(minutes=30), RULES)
    assert not session_active(T0, T0, T0, RULES)


def test_an_update_request_is_keyed_by_the_london_day() -> None:
    # 23:30 UTC on 1 June is 00:30 on 2 June in London (BST).
    assert update_request_key(datetime(2026, 6, 1, 23, 30, tzinfo=UTC)) == (
        "update_request:2026-06-02"
    )
    assert update_request_key(datetime(2026, 12, 1, 23, 30, tzinfo=UTC)) == (
        "update_request:2026-12-01"
    )


def test_dates_are_written_as_victims_read_them_in_london() -> None:
    instant = datetime(2026, 6, 1, 23, 5, tzinfo=UTC)
    assert london_date(instant) == "Tuesday 2 June 2026"
    assert london_time(instant) == "12:05am"
    assert london_time(datetime(2026, 12, 2, 14, 30, tzinfo=UTC)) == "2:30pm"


RENDERER = MessageRenderer(DEFAULT_TEMPLATE_DIR)
CATEGORIES = ["domestic_abuse", "sexual_offence", "hate_crime", "burglary"]
CRIME_WORDS = {"crime", "abuse", "domestic", "sexual", "offence", "hate", "burglary", "assault"}


def code_context(category: str, discreet: bool) -> MessageContext:
    return MessageContext(
        reference="01/123456/26",
        contact_number="101",
        force_name="Metropolitan Police",
        victim_name="Alex Smith",
        category=category,
        borough="Camden",
        discreet=discreet,
        unit_name="Camden Victim Focus Unit",
        sign_in_code="042424",
        code_lifetime_minutes=10,
    )


@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("category", CATEGORIES)
def test_the_code_message_never_names_a_crime_type_nor_the_reference_and_says_to_delete_it(
    channel: Channel, category: str
) -> None:
    terms = [category, category.replace("_", " "), "Camden", "Camden Victim Focus Unit"]
    discreet = RENDERER.render(SIGN_IN_CODE_TEMPLATE, channel, code_context(category, True))
    plain = RENDERER.render(SIGN_IN_CODE_TEMPLATE, channel, code_context(category, False))
    for message in (discreet, plain):
        assert "042424" in message.text and "01/123456/26" not in message.text
        assert "01/123456/26" not in (message.subject or "")
        assert "101" in message.text and "delete this" in message.text
        words = set(re.findall(r"[a-z]+", f"{message.subject or ''} {message.text}".lower()))
        assert not words & CRIME_WORDS
        assert category.replace("_", " ") not in message.text.lower()
    everything = f"{discreet.subject or ''} {discreet.text} {discreet.html or ''}"
    assert discreet_problems(everything, [*terms, "Metropolitan Police"]) == []
    if channel == Channel.SMS:
        assert discreet.html is None and len(discreet.text) <= 160


def test_the_discreet_check_finds_forbidden_words_and_revealing_terms() -> None:
    assert discreet_problems("Your police officer called", []) == ["says officer", "says police"]
    assert discreet_problems("About your burglary in Camden", ["Camden"]) == [
        "says burglary",
        "names 'Camden'",
    ]
    assert discreet_problems("Your reference 01/123456/26", ["Camden"]) == []


def test_a_sign_in_code_template_that_names_the_reference_is_refused(tmp_path: Path) -> None:
    messages = tmp_path / "messages"
    messages.mkdir()
    (messages / "sign_in_code.sms.j2").write_text(
        "Code {{ sign_in_code }} for {{ reference }}. Call {{ contact_number }}.", "utf-8"
    )
    with pytest.raises(TemplateError, match="must not give the reference"):
        MessageRenderer(tmp_path).render(
            SIGN_IN_CODE_TEMPLATE, Channel.SMS, code_context("burglary", False)
        )
