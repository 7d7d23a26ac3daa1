"""JSON log lines: a fixed set of fields, the case reference, never personal data."""

from __future__ import annotations

import json
import logging
import sys

from service.runtime.logs import CaseJsonFormatter


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord(
        "temporalio.activity", logging.WARNING, __file__, 1, message, args, None
    )
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_an_activity_line_names_the_case_by_its_reference_and_nothing_else_is_copied() -> None:
    line = CaseJsonFormatter().format(
        record(
            "send failed",
            temporal_activity={
                "workflow_id": "case:01/123456/26",
                "activity_type": "send_message",
                "attempt": 3,
                "task_queue": "pledge-cases",
            },
            victim_name="Alex Smith",
            victim_phone="+447700900123",
        )
    )
    parsed = json.loads(line)
    assert parsed["case_reference"] == "01/123456/26"
    assert parsed["activity_type"] == "send_message" and parsed["attempt"] == 3
    assert set(parsed) == {
        "time",
        "level",
        "logger",
        "message",
        "case_reference",
        "activity_type",
        "attempt",
    }
    assert "Alex Smith" not in line and "+447700900123" not in line


def test_a_line_about_no_case_has_no_reference() -> None:
    parsed = json.loads(CaseJsonFormatter().format(record("worker polling %s", "pledge-cases")))
    assert parsed["message"] == "worker polling pledge-cases"
    assert "case_reference" not in parsed
    assert parsed["level"] == "WARNING" and parsed["logger"] == "temporalio.activity"


def test_an_error_line_keeps_the_error_type_but_not_the_traceback() -> None:
    try:
        raise ValueError("could not reach alex@example.org")
    except ValueError:
        made = record("failed")
        made.exc_info = sys.exc_info()
    line = CaseJsonFormatter().format(made)
    parsed = json.loads(line)
    assert parsed["error_type"] == "ValueError"
    assert "Traceback" not in line and "alex@example.org" not in line
