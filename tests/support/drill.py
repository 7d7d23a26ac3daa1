"""A policy whose clocks run in minutes, and worker processes, for tests where real
timers must fire while the test watches (worker loss, server restarts)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from standards.obligations import AlertKind
from storage import models
from tests.support.dev import ROOT

DRILL_POLICY_ID = "minute-drill"
# Contact within a minute: a warning at 45 s, the breach at 60 s, the escalation 18 s
# later (0.005 h). The acknowledgement goes at once, by the usual message.
DRILL_POLICY = f"""
id = "{DRILL_POLICY_ID}"
version = 1
title = "Minute drill"
contact_number = "101"
warning_at = 0.75
escalate_after_hours = 0.005
reopen_window_days = 0
categories = ["domestic_abuse"]

[groups]
crime = ["domestic_abuse"]

[[standards]]
id = "acknowledgement"
title = "Acknowledge the report within a minute"
applies_to = ["crime"]
starts_on = ["case_opened"]
window = 1
unit = "minutes"
met_by = ["message:acknowledgement", "contact"]

[[standards]]
id = "dv_contact"
title = "Contact the victim within a minute"
applies_to = ["domestic_abuse"]
starts_on = ["case_opened"]
window = 1
unit = "minutes"
met_by = ["contact"]

[[messages]]
on = "case_opened"
template = "acknowledgement"
applies_to = ["crime"]
"""
# What each drill case must end with: one acknowledgement, and the unmet contact's
# warning, breach and escalation, each exactly once.
DRILL_ALERT_KINDS = (AlertKind.WARNING, AlertKind.BREACH, AlertKind.ESCALATION)
# The last timer fires 78 s after a case opens; the rest is slack for a lost worker's
# cases to move (the sticky queue's timeout) on a busy machine.
DRILL_DEADLINE_SECONDS = 240


def drill_policy_dir(directory: Path) -> Path:
    """A policy directory with the drill policy and the force's units."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{DRILL_POLICY_ID}.toml").write_text(DRILL_POLICY)
    shutil.copy(ROOT / "policies" / "met.force.toml", directory / "met.force.toml")
    return directory


def worker_environment(
    temporal_address: str, database_url: str, task_queue: str, policy_dir: Path
) -> dict[str, str]:
    return {
        **os.environ,
        "PLEDGE_TEMPORAL_ADDRESS": temporal_address,
        "DATABASE_URL": database_url,
        "PLEDGE_TASK_QUEUE": task_queue,
        "PLEDGE_POLICY_DIR": str(policy_dir),
        "PLEDGE_DEFAULT_POLICY": DRILL_POLICY_ID,
        # As a collector would read them: the tests scan them for personal data.
        "PLEDGE_LOG_FORMAT": "json",
    }


def start_worker(environment: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python worker.py` in its own process, its output in `log`."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "worker.py"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_until_polling(log: Path, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the worker exited early:\n{log.read_text()}")
        if "polling" in log.read_text().lower():
            return
        time.sleep(0.2)
    raise AssertionError(
        f"the worker did not start polling within {timeout:g} s:\n{log.read_text()}"
    )


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def drill_outcome(sessions: sessionmaker[Session]) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    """Messages per idempotency key, and alerts per (case reference, kind) for dv_contact."""
    with sessions() as session:
        keys = Counter(session.scalars(select(models.OutboxMessage.idempotency_key)))
        alerts = Counter(
            (reference, kind)
            for reference, kind in session.execute(
                select(models.Alert.reference, models.Alert.kind).where(
                    models.Alert.standard == "dv_contact"
                )
            )
        )
    return keys, alerts


def acknowledgements_per_case(sessions: sessionmaker[Session]) -> Counter[str]:
    with sessions() as session:
        return Counter(
            session.scalars(
                select(models.Case.reference)
                .join(models.OutboxMessage, models.OutboxMessage.case_id == models.Case.id)
                .where(models.OutboxMessage.template == "acknowledgement")
            )
        )


def transitions_per_obligation(sessions: sessionmaker[Session]) -> Counter[tuple[int, str]]:
    """How often each obligation recorded each kind of transition (started, warned, ...)."""
    with sessions() as session:
        return Counter(
            (obligation_id, event)
            for obligation_id, event in session.execute(
                select(models.ObligationTransition.obligation_id, models.ObligationTransition.event)
            )
        )


def personal_data_in_logs(logs: list[Path], personal: tuple[str, ...]) -> list[str]:
    """Every log line that is not JSON, or that quotes any of `personal`."""
    found = []
    for log in logs:
        for line in log.read_text().splitlines():
            if not line.strip():
                continue
            try:
                json.loads(line)
            except ValueError:
                found.append(f"{log.name}: not a JSON line: {line[:200]}")
                continue
            if any(value in line for value in personal):
                found.append(f"{log.name}: {line[:200]}")
    return found
