"""The API's pure parts: rate limits, cursors, JSON pointers, media types."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.case_reads import BadCursor, decode_cursor, encode_cursor
from web.api.bodies import is_json_media_type
from web.api.limits import RateLimiter
from web.api.problems import json_pointer


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_token_may_burst_then_waits_for_its_rate_and_other_tokens_are_not_held_up() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=6, burst=2, clock=clock)

    assert [limiter.retry_after("a") for _ in range(3)] == [None, None, 10]
    assert limiter.retry_after("b") is None
    clock.now = 10.0
    assert limiter.retry_after("a") is None
    assert limiter.retry_after("a") == 10


def test_a_cursor_reads_back_as_the_position_it_was_made_from() -> None:
    due = datetime(2026, 3, 27, 17, 30, tzinfo=UTC)

    assert decode_cursor(encode_cursor(due, 42)) == (due, 42)


@pytest.mark.parametrize(
    "cursor", ["rubbish", "", "bm9waXBl", encode_cursor(datetime(2026, 1, 1, tzinfo=UTC), 1)[:-3]]
)
def test_a_cursor_the_api_did_not_give_out_is_refused_with_what_to_pass(cursor: str) -> None:
    with pytest.raises(BadCursor, match="next_cursor"):
        decode_cursor(cursor)


def test_json_pointers_escape_slashes_and_tildes() -> None:
    assert json_pointer(("victim", "phone")) == "/victim/phone"
    assert json_pointer(("details", "a/b~c", 0)) == "/details/a~1b~0c/0"


def test_json_and_json_suffix_media_types_are_accepted_and_others_are_not() -> None:
    assert is_json_media_type("application/json; charset=utf-8")
    assert is_json_media_type("application/merge-patch+json")
    assert not is_json_media_type("text/plain")
    assert not is_json_media_type(None)
