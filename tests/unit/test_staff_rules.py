"""The staff pages' pure rules: scope, session expiry, sign-in throttling, passwords, cookies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config import Settings
from service.accounts import (
    checked_display_name,
    normalise_email,
    parse_role,
    password_matches,
    rehashed,
    resolve_borough,
)
from standards.force import load_force
from standards.staff import (
    MIN_PASSWORD_LENGTH,
    AccountRuleError,
    SessionEnd,
    SessionLimits,
    StaffRole,
    StaffUser,
    ThrottleRule,
    borough_problem,
    can_see,
    display_name_problem,
    password_problem,
    retry_after,
    safe_next_path,
    session_expiry,
    visible_boroughs,
)
from web.pages.staff_auth import cookie_is_secure

MET = load_force(Path(__file__).resolve().parents[2] / "policies" / "met.force.toml")
T0 = datetime(2026, 3, 28, 9, 0, tzinfo=UTC)
LIMITS = SessionLimits(idle=timedelta(minutes=30), lifetime=timedelta(hours=12))


def user(role: StaffRole, borough: str | None) -> StaffUser:
    return StaffUser(id=1, email="someone@example.org", role=role, borough=borough)


# --- scope ---------------------------------------------------------------------------------


def test_a_vfu_user_sees_only_their_own_boroughs_cases() -> None:
    camden = user(StaffRole.VFU, "camden")
    assert can_see(camden, "camden")
    # A case stored by name before boroughs were checked is still theirs.
    assert can_see(camden, "Camden")
    assert not can_see(camden, "hackney")
    assert not can_see(user(StaffRole.VFU, None), "camden")


def test_a_borough_manager_sees_their_borough_and_a_force_manager_sees_every_borough() -> None:
    assert can_see(user(StaffRole.MANAGER, "hackney"), "hackney")
    assert not can_see(user(StaffRole.MANAGER, "hackney"), "camden")
    for unit in MET.units:
        assert can_see(user(StaffRole.MANAGER, None), unit.id)


def test_an_admin_sees_no_case_at_all() -> None:
    for borough in (None, "camden"):
        for unit in MET.units:
            assert not can_see(user(StaffRole.ADMIN, borough), unit.id)


def test_visible_boroughs_gives_what_a_query_filters_on() -> None:
    assert visible_boroughs(user(StaffRole.MANAGER, None), MET) is None
    assert visible_boroughs(user(StaffRole.ADMIN, None), MET) == []
    assert visible_boroughs(user(StaffRole.VFU, None), MET) == []
    spellings = visible_boroughs(user(StaffRole.VFU, "kensington_and_chelsea"), MET)
    assert spellings is not None
    assert "kensington_and_chelsea" in spellings and "Kensington and Chelsea" in spellings
    assert visible_boroughs(user(StaffRole.VFU, "gone"), MET) == ["gone"]


# --- session expiry ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("created", "last_seen", "now", "expected"),
    [
        (T0, T0, T0 + timedelta(minutes=29, seconds=59), None),
        (T0, T0, T0 + timedelta(minutes=30), SessionEnd.IDLE),
        (T0, T0 + timedelta(hours=11), T0 + timedelta(hours=11, minutes=29), None),
        (T0, T0 + timedelta(hours=11, minutes=50), T0 + timedelta(hours=11, minutes=59), None),
        (T0, T0 + timedelta(hours=11, minutes=50), T0 + timedelta(hours=12), SessionEnd.LIFETIME),
        # Past both bounds, the lifetime is the reason given.
        (T0, T0, T0 + timedelta(hours=13), SessionEnd.LIFETIME),
    ],
)
def test_a_session_ends_when_idle_for_30_minutes_or_12_hours_after_sign_in(
    created: datetime, last_seen: datetime, now: datetime, expected: SessionEnd | None
) -> None:
    assert session_expiry(created, last_seen, now, LIMITS) == expected


# --- throttling ----------------------------------------------------------------------------

RULE = ThrottleRule(failures=3, window=timedelta(minutes=15))


def test_attempts_are_allowed_until_the_limit_of_failures_in_the_window() -> None:
    assert retry_after([], T0, RULE) is None
    assert retry_after([T0, T0 + timedelta(minutes=1)], T0 + timedelta(minutes=2), RULE) is None


def test_past_the_limit_the_wait_lasts_until_the_oldest_failure_leaves_the_window() -> None:
    failures = [T0, T0 + timedelta(minutes=5), T0 + timedelta(minutes=10)]
    now = T0 + timedelta(minutes=11)
    assert retry_after(failures, now, RULE) == timedelta(minutes=4)
    assert retry_after(failures, T0 + timedelta(minutes=15), RULE) is None


def test_failures_older_than_the_window_are_not_counted() -> None:
    old = [T0 - timedelta(minutes=16)] * 10
    assert retry_after([*old, T0, T0], T0 + timedelta(minutes=1), RULE) is None


def test_with_many_recent_failures_the_wait_is_set_by_the_one_that_frees_a_slot() -> None:
    failures = [T0 + timedelta(minutes=m) for m in (0, 1, 2, 3, 4)]
    now = T0 + timedelta(minutes=5)
    # Two attempts too many: the third-newest failure (minute 2) must leave first.
    assert retry_after(failures, now, RULE) == timedelta(minutes=12)


# --- accounts ------------------------------------------------------------------------------


def test_a_password_shorter_than_12_characters_is_refused_in_one_line() -> None:
    assert MIN_PASSWORD_LENGTH == 12
    problem = password_problem("x" * 11)
    assert problem is not None and "at least 12 characters" in problem and "\n" not in problem
    assert password_problem("x" * 12) is None
    assert password_problem(" " * 20) is not None
    assert password_problem("x" * 1000) is not None


def test_a_display_name_has_1_to_100_characters_on_one_line() -> None:
    assert display_name_problem("Priya Shah") is None
    assert display_name_problem("x" * 100) is None
    assert display_name_problem("Siân O'Brien-Nwosu") is None
    for bad in ("", "   ", "x" * 101, "Priya\nShah", "Priya\tShah", "Priya\x00"):
        problem = display_name_problem(bad)
        assert problem is not None and "\n" not in problem, repr(bad)
        assert problem.endswith("accepted: a name of 1 to 100 characters on one line")
    assert checked_display_name("  Priya Shah ") == "Priya Shah"
    with pytest.raises(AccountRuleError, match="the name is empty"):
        checked_display_name("  ")


def test_roles_and_boroughs_go_together_as_the_roles_require() -> None:
    assert borough_problem(StaffRole.VFU, None) is not None
    assert borough_problem(StaffRole.VFU, "camden") is None
    assert borough_problem(StaffRole.MANAGER, None) is None
    assert borough_problem(StaffRole.MANAGER, "camden") is None
    assert borough_problem(StaffRole.ADMIN, "camden") is not None
    assert borough_problem(StaffRole.ADMIN, None) is None


def test_an_email_is_stored_lowercased_and_a_bad_one_is_refused() -> None:
    assert normalise_email("  Jo.Bloggs@Camden.Example.ORG ") == "jo.bloggs@camden.example.org"
    for bad in ("jo", "jo@", "@example.org", "jo bloggs@example.org"):
        with pytest.raises(AccountRuleError):
            normalise_email(bad)


def test_a_role_and_a_borough_are_read_as_typed_in_any_case() -> None:
    assert parse_role("Manager") == StaffRole.MANAGER
    with pytest.raises(AccountRuleError, match="accepted: vfu, manager, admin"):
        parse_role("chief")
    assert resolve_borough(MET, "Kensington and Chelsea") == "kensington_and_chelsea"
    assert resolve_borough(MET, None) is None
    with pytest.raises(AccountRuleError, match="did you mean 'Camden'"):
        resolve_borough(MET, "camdn")


def test_a_hash_made_with_weaker_parameters_is_renewed_even_for_a_short_password() -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192).hash("short")
    renewed = rehashed(weak, "short")
    assert renewed is not None and renewed != weak and password_matches(renewed, "short")
    assert rehashed(renewed, "short") is None


def test_no_account_never_matches_a_password() -> None:
    assert not password_matches(None, "")
    assert not password_matches(None, "correct horse battery staple")
    assert not password_matches("not a hash", "anything at all")


# --- redirects and cookies -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/queue", "/queue"),
        ("/cases/01%2F123456%2F26?tab=events", "/cases/01%2F123456%2F26?tab=events"),
        ("//evil.example/", None),
        ("https://evil.example/", None),
        ("/\\evil.example", None),
        ("queue", None),
        ("", None),
        (None, None),
    ],
)
def test_sign_in_returns_only_to_a_path_on_this_site(
    candidate: str | None, expected: str | None
) -> None:
    assert safe_next_path(candidate) == expected


@pytest.mark.parametrize(
    ("base_url", "mode", "secure"),
    [
        ("http://127.0.0.1:8000", "auto", False),
        ("http://localhost:8000", "auto", False),
        ("http://[::1]:8000", "auto", False),
        ("https://127.0.0.1:8000", "auto", True),
        ("http://pledge.example.org", "auto", True),
        ("http://10.0.0.5:8000", "auto", True),
        ("https://pledge.example.org", "auto", True),
        ("https://pledge.example.org", "never", False),
        ("http://127.0.0.1:8000", "always", True),
    ],
)
def test_cookies_are_secure_unless_on_plain_http_at_a_loopback_address(
    base_url: str, mode: str, secure: bool
) -> None:
    settings = Settings(public_base_url=base_url, staff_cookie_secure=mode)
    assert cookie_is_secure(settings) is secure
