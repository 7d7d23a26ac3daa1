"""Log set-up: plain lines for a terminal (the default), or JSON lines for a collector.

A JSON line has a fixed set of fields: time, level, logger, message, and - where the
line is about a case - its crime reference (from the workflow id), the activity or
workflow type and the attempt, and an error's type. Nothing else from a record is copied
in: a caller's `extra` could carry anything, and a log line must never hold a victim's
name or contact details. Tracebacks and error messages are left out of JSON lines for
the same reason (either can quote case data, an address the mail server refused);
the error's type stays, and the message written by the code that logged.
"""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from config import Settings

CASE_WORKFLOW_PREFIX = "case:"
FIELDS = ("time", "level", "logger", "message")


def case_reference_of(record: logging.LogRecord) -> str | None:
    """The case a record is about, from the SDK's activity or workflow details."""
    for attribute in ("temporal_activity", "temporal_workflow"):
        details: dict[str, Any] = getattr(record, attribute, None) or {}
        workflow_id = str(details.get("workflow_id", ""))
        if workflow_id.startswith(CASE_WORKFLOW_PREFIX):
            return workflow_id.removeprefix(CASE_WORKFLOW_PREFIX)
    reference = getattr(record, "case_reference", None)
    return str(reference) if reference else None


class CaseJsonFormatter(JsonFormatter):
    """One JSON object per line, holding only the fields listed in this module's doc."""

    def __init__(self) -> None:
        super().__init__(
            fmt="%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        for key in list(log_data):
            if key not in FIELDS:
                del log_data[key]
        reference = case_reference_of(record)
        if reference is not None:
            log_data["case_reference"] = reference
        for attribute, key in (
            ("temporal_activity", "activity_type"),
            ("temporal_workflow", "workflow_type"),
        ):
            details: dict[str, Any] = getattr(record, attribute, None) or {}
            if key in details:
                log_data[key] = details[key]
            if "attempt" in details:
                log_data["attempt"] = details["attempt"]
        if record.exc_info and record.exc_info[1] is not None:
            log_data["error_type"] = type(record.exc_info[1]).__name__

    def formatException(self, ei: Any) -> str:
        return ""

    def formatStack(self, stack_info: str) -> str:
        return ""


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    """The root logger's one handler, in the configured format (PLEDGE_LOG_FORMAT)."""
    if settings.log_format == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(CaseJsonFormatter())
        logging.basicConfig(level=level, handlers=[handler], force=True)
    else:
        logging.basicConfig(level=level)
