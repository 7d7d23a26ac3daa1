"""The Pledge Monitor worker: the only place (with the web app) that builds real clients.

Run it against an existing Temporal server with `python worker.py`; `pledge dev`
starts an embedded dev server and runs this same worker in-process.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import py_compile
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.alerts import AlertMailer, AlertMailSettings, policy_titles, run_alert_mailer
from activities.delivery import DeliveryBackend, LocalOutbox, SimulatedSms
from activities.email import SmtpEmail, SmtpSettings
from activities.messages import MessageActivities, MessageSettings
from activities.records import CaseRecordActivities
from activities.rendering import Channel, MessageRenderer
from activities.schedules import ScheduleActivities
from service.configuration import configured_force
from service.settings import Settings
from standards.force import Force
from storage.database import make_engine, make_session_factory, upgrade_to_head
from workflows.case import CaseWorkflow

log = logging.getLogger("pledge.worker")
MAX_CACHED_CASES = 500


@dataclass
class WorkerParts:
    sessions: sessionmaker[Session]
    backends: Mapping[Channel, DeliveryBackend]


def smtp_settings(settings: Settings) -> SmtpSettings | None:
    if not settings.smtp_host:
        return None
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls,
        mail_from=settings.mail_from,
        reply_to=settings.mail_reply_to,
    )


def twilio_configured(settings: Settings) -> bool:
    return bool(
        settings.twilio_account_sid
        and settings.twilio_auth_token
        and (settings.twilio_from_number or settings.twilio_messaging_service_sid)
    )


def default_backends(settings: Settings) -> dict[Channel, DeliveryBackend]:
    """The local outbox for each channel, unless that channel's provider is configured."""
    outbox = LocalOutbox()
    backends: dict[Channel, DeliveryBackend] = {Channel.SMS: outbox, Channel.EMAIL: outbox}
    smtp = smtp_settings(settings)
    if smtp is not None:
        backends[Channel.EMAIL] = SmtpEmail(smtp)
    if twilio_configured(settings):
        # Imported here: the twilio package is only needed when it is used.
        from activities.sms import TwilioSettings, TwilioSms

        assert settings.twilio_account_sid and settings.twilio_auth_token
        backends[Channel.SMS] = TwilioSms(
            TwilioSettings(
                account_sid=settings.twilio_account_sid,
                auth_token=settings.twilio_auth_token.get_secret_value(),
                from_number=settings.twilio_from_number,
                messaging_service_sid=settings.twilio_messaging_service_sid,
                base_url=settings.twilio_base_url,
            )
        )
    return backends


def status_callback_url(settings: Settings) -> str | None:
    """Twilio reports delivery here (the web app); the outbox needs no callback."""
    if not twilio_configured(settings):
        return None
    return settings.public_base_url.rstrip("/") + "/twilio/status"


def alert_mailer(
    settings: Settings, sessions: sessionmaker[Session], force: Force | None = None
) -> AlertMailer | None:
    """Staff alert emails need a mail server; without one the alerts table is the record.

    Alerts go to the mailboxes in the force file (`force`, else the configured one)."""
    smtp = smtp_settings(settings)
    if smtp is None:
        return None
    return AlertMailer(
        sessions,
        MessageRenderer(settings.template_dir),
        SmtpEmail(smtp),
        AlertMailSettings(
            vfu_email_pattern=settings.vfu_email_pattern,
            manager_email_pattern=settings.manager_email_pattern,
            force=force or configured_force(settings),
        ),
        title_of=policy_titles(settings.policy_dir),
    )


def simulation_backends() -> dict[Channel, DeliveryBackend]:
    """Rehearsals deliver at once, but for the provider-style SMS test numbers."""
    return {Channel.SMS: SimulatedSms(), Channel.EMAIL: LocalOutbox()}


def activity_objects(settings: Settings, parts: WorkerParts) -> Sequence[Any]:
    force = configured_force(settings)
    schedules = ScheduleActivities(force.holiday_corrections)
    records = CaseRecordActivities(parts.sessions)
    messages = MessageActivities(
        parts.sessions,
        MessageRenderer(settings.template_dir),
        parts.backends,
        MessageSettings(
            force_name=settings.force_name,
            unit_name_pattern=settings.unit_name_pattern,
            status_callback_url=status_callback_url(settings),
            unit_names={unit.id: unit.name for unit in force.units},
        ),
    )
    return [schedules.compute_schedules, records.record_case_changes, messages.send_message]


def cache_workflow_bytecode(workflow_classes: Sequence[type]) -> None:
    """Write the bytecode of the workflow modules, even where PYTHONDONTWRITEBYTECODE is set.

    The sandbox imports a workflow's module afresh for every workflow run; without
    cached bytecode each case would compile the module's source again (about an
    eighth of a case's intake CPU, measured). Python still reads bytecode when it may not write it.
    A read-only source tree only loses the saving.
    """
    for cls in workflow_classes:
        source = sys.modules[cls.__module__].__file__
        if source is not None:
            py_compile.compile(
                source, cfile=importlib.util.cache_from_source(source), doraise=False, quiet=2
            )


def build_worker(
    client: Client,
    settings: Settings,
    parts: WorkerParts,
    task_queue: str | None = None,
    max_concurrent_activities: int = 32,
) -> Worker:
    cache_workflow_bytecode([CaseWorkflow])
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[CaseWorkflow],
        activities=activity_objects(settings, parts),
        activity_executor=ThreadPoolExecutor(max_workers=max_concurrent_activities),
        max_concurrent_activities=max_concurrent_activities,
        # Each cached case holds a sandbox of its own (its module, its state); a case
        # spends almost all its life asleep on a timer, and one evicted replays from
        # its history on its next wake. 500 keeps intake's peak memory down.
        max_cached_workflows=MAX_CACHED_CASES,
    )


def parts_from_settings(settings: Settings) -> WorkerParts:
    url = settings.resolved_database_url
    upgrade_to_head(url)
    return WorkerParts(
        sessions=make_session_factory(make_engine(url)), backends=default_backends(settings)
    )


async def main() -> None:
    from service.temporal import (
        connect,
        frontend_address,
        log_expected_retries_briefly,
        register_search_attributes,
    )

    logging.basicConfig(level=logging.INFO)
    log_expected_retries_briefly()
    settings = Settings()
    address = frontend_address(settings)
    client = await connect(settings)
    await register_search_attributes(client, settings.temporal_namespace)
    parts = parts_from_settings(settings)
    worker = build_worker(client, settings, parts)
    log.info("worker polling %s on %s", settings.task_queue, address)
    mailer = alert_mailer(settings, parts.sessions)
    stop = asyncio.Event()
    sweeps = asyncio.create_task(run_alert_mailer(mailer, stop)) if mailer else None
    try:
        await worker.run()
    finally:
        stop.set()
        if sweeps is not None:
            await sweeps


if __name__ == "__main__":
    asyncio.run(main())
