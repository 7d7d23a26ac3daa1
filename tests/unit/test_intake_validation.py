"""What intake says about a malformed field: what was wrong and what is accepted."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.cases import EventIn, describe_validation_error


def test_a_malformed_reference_or_event_id_is_refused_saying_what_is_accepted() -> None:
    with pytest.raises(ValidationError) as refused:
        EventIn.model_validate(
            {"reference": "x", "type": "arrest", "at": "2026-01-01T00:00Z", "event_id": "a b"}
        )
    lines = describe_validation_error(refused.value)
    assert lines == [
        "reference: a crime reference is 3 to 32 letters, digits and / _ . - starting with "
        "a letter or digit, e.g. 01/123456/26",
        "event_id: an event id is 1 to 64 letters, digits and / _ . : - starting with a "
        "letter or digit, e.g. crs-000123",
    ]
