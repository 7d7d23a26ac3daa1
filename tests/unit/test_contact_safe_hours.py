"""Safe contact rules: safe hours (including windows past midnight), channels, do-not-contact."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from standards.contact import ContactProfile, next_safe_instant, plan_channels

DAYTIME = ContactProfile(
    preferred_channel="sms",
    allowed_channels=["sms", "email"],
    has_email=True,
    has_phone=True,
    safe_hours_start=time(8, 0),
    safe_hours_end=time(20, 0),
)
OVERNIGHT = ContactProfile(
    preferred_channel="sms",
    has_phone=True,
    safe_hours_start=time(22, 0),
    safe_hours_end=time(7, 0),
)


@pytest.mark.parametrize(
    ("profile", "at", "opens"),
    [
        # 23:30 GMT waits across midnight for 08:00.
        (DAYTIME, datetime(2026, 3, 2, 23, 30, tzinfo=UTC), datetime(2026, 3, 3, 8, 0, tzinfo=UTC)),
        # 06:00 GMT waits for 08:00 the same day.
        (DAYTIME, datetime(2026, 3, 3, 6, 0, tzinfo=UTC), datetime(2026, 3, 3, 8, 0, tzinfo=UTC)),
        # In summer time 08:00 London is 07:00 UTC.
        (DAYTIME, datetime(2026, 7, 1, 21, 0, tzinfo=UTC), datetime(2026, 7, 2, 7, 0, tzinfo=UTC)),
        # A window from 22:00 to 07:00: a morning message waits for the evening.
        (
            OVERNIGHT,
            datetime(2026, 3, 2, 7, 30, tzinfo=UTC),
            datetime(2026, 3, 2, 22, 0, tzinfo=UTC),
        ),
    ],
)
def test_a_message_outside_safe_hours_waits_for_the_next_opening(
    profile: ContactProfile, at: datetime, opens: datetime
) -> None:
    plan = plan_channels(profile, at, [])
    assert plan.wait_until == opens == next_safe_instant(profile, at)


@pytest.mark.parametrize(
    "at", [datetime(2026, 3, 2, 23, 30, tzinfo=UTC), datetime(2026, 3, 3, 2, 0, tzinfo=UTC)]
)
def test_inside_a_window_that_wraps_past_midnight_a_message_goes_at_once(at: datetime) -> None:
    plan = plan_channels(OVERNIGHT, at, [])
    assert (plan.wait_until, plan.channels) == (None, ["sms"])


def test_an_opted_out_phone_leaves_email_and_nothing_left_is_blocked() -> None:
    at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    opted_out = ContactProfile(
        preferred_channel="sms",
        allowed_channels=["sms", "email"],
        has_email=True,
        has_phone=True,
        sms_opted_out=True,
    )
    assert plan_channels(opted_out, at, []).channels == ["email"]
    assert plan_channels(opted_out, at, ["email"]).blocked is not None


def test_do_not_contact_blocks_every_channel() -> None:
    profile = ContactProfile(preferred_channel="email", has_email=True, do_not_contact=True)
    plan = plan_channels(profile, datetime(2026, 3, 2, 12, 0, tzinfo=UTC), [])
    assert plan.channels == [] and plan.blocked is not None
