"""The Pledge Monitor worker: the only place (with the web app) that builds real clients.

Run it against an existing Temporal server with `python worker.py`; `pledge dev`
starts an embedded dev server and runs this same worker in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import py_compile
import signal
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
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
from service.metrics import MetricsInterceptor
from service.settings import Settings
from standards.force import Force
from storage.database import make_engine, make_session_factory, upgrade_to_head
from workflows.case import CaseWorkflow

log = logging.getLogger("pledge.worker")


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
) -> Worker:
    """The case worker, tuned by the PLEDGE_WORKER_* settings (defaults in settings.py)."""
    cache_workflow_bytecode([CaseWorkflow])
    activities = settings.worker_max_concurrent_activities
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[CaseWorkflow],
        activities=activity_objects(settings, parts),
        activity_executor=ThreadPoolExecutor(max_workers=activities),
        max_concurrent_activities=activities,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_cached_workflows=settings.worker_max_cached_workflows,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_graceful_shutdown_seconds),
        # Counts what the activities did into the service's metrics (service/metrics.py).
        interceptors=[MetricsInterceptor()],
    )


def parts_from_settings(settings: Settings) -> WorkerParts:
    url = settings.resolved_database_url
    upgrade_to_head(url)
    return WorkerParts(
        sessions=make_session_factory(make_engine(url)), backends=default_backends(settings)
    )


async def main(settings: Settings | None = None) -> None:
    """Poll the task queue until SIGTERM or SIGINT, then stop gracefully: polling stops at
    once, running activities have PLEDGE_WORKER_GRACEFUL_SHUTDOWN_SECONDS to finish (then
    they are cancelled), and the process exits 0."""
    from service.logs import configure_logging
    from service.metrics import serve_worker_metrics, worker_runtime
    from service.temporal import (
        connect,
        frontend_address,
        log_expected_retries_briefly,
        register_search_attributes,
    )

    settings = settings or Settings()
    configure_logging(settings)
    log_expected_retries_briefly()
    address = frontend_address(settings)
    runtime = worker_runtime(
        settings.worker_metrics_host,
        settings.worker_sdk_metrics_port,
        forward_logs=settings.log_format == "json",
    )
    client = await connect(settings, runtime)
    await register_search_attributes(client, settings.temporal_namespace)
    parts = parts_from_settings(settings)
    worker = build_worker(client, settings, parts)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    metrics = None
    if settings.worker_metrics_port is not None:
        metrics = serve_worker_metrics(
            settings.worker_metrics_host,
            settings.worker_metrics_port,
            healthy=lambda: worker.is_running and not worker.is_shutdown and not stop.is_set(),
        )
        log.info("worker metrics on %s:%s", settings.worker_metrics_host, metrics.port)
    mailer = alert_mailer(settings, parts.sessions)
    sweeps = asyncio.create_task(run_alert_mailer(mailer, stop)) if mailer else None
    polling = asyncio.create_task(worker.run())
    log.info("worker polling %s on %s", settings.task_queue, address)
    try:
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not polling.done():
            log.info(
                "stopping: no new tasks; running activities have %g s to finish",
                settings.worker_graceful_shutdown_seconds,
            )
            await worker.shutdown()
        await polling
        log.info("worker stopped")
    finally:
        stop.set()
        if sweeps is not None:
            await sweeps
        if metrics is not None:
            metrics.close()


if __name__ == "__main__":
    asyncio.run(main())
