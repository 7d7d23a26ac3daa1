"""The one composition root: every real part of the application is built here, once.

The database (engine and sessions), the Temporal client, the delivery backends, the
renderer, the force and policy, the worker and the web app's parts. The entry points
(`worker.py`, the `pledge` commands in cli/, the web app's server, the rehearsals and
the benches) read the settings, ask this module for what they need, and run it; nothing
below this module builds a client, an engine or a backend of its own. docs/architecture.md
places it in the layers: it may import every package but the entry points.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import py_compile
import signal
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.worker import Worker

import storage.database
import workflows.case
import workflows.side_effects
from activities.alerts import AlertMailer, AlertMailSettings, policy_titles, run_alert_mailer
from activities.messages import MessageActivities, MessageSettings
from activities.records import CaseRecordActivities
from activities.retention import RetentionActivities
from activities.schedules import ScheduleActivities
from activities.send_and_record import SendAndRecordActivities
from adapters.delivery import DeliveryBackend, LocalOutbox, SimulatedSms
from adapters.mail_drop import LocalMailDrop, mail_drop_dir
from adapters.smtp import SmtpEmail
from config import Settings
from messaging.rendering import MessageRenderer
from service.backends import (
    default_backends,
    local_outbox_only,
    smtp_settings,
    twilio_configured,
)
from service.configuration import configured_force, configured_policy
from service.runtime.temporal import connect
from service.runtime.worker_metrics import MetricsInterceptor
from standards.force import Force
from standards.policy import Policy
from standards.vocabulary import Channel
from storage.database import existing_engine, make_engine, make_session_factory, upgrade_to_head
from workflows.case import CaseWorkflow
from workflows.retention import RetentionWorkflow

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("pledge.worker")


def migrate(settings: Settings) -> None:
    """Create the configured database, or bring it up to date."""
    upgrade_to_head(settings.resolved_database_url)


def refresh_statistics_of(engine: Engine) -> None:
    """An open engine's planner statistics gathered afresh."""
    storage.database.refresh_statistics(engine)


def refresh_statistics(settings: Settings) -> None:
    """The configured database's planner statistics gathered afresh (it must exist)."""
    with storage.database.existing_database(settings.resolved_database_url) as engine:
        storage.database.refresh_statistics(engine)


def database(settings: Settings) -> sessionmaker[Session]:
    """Sessions on the configured database, created or brought up to date first."""
    migrate(settings)
    return make_session_factory(make_engine(settings.resolved_database_url))


def engine_on_existing(settings: Settings) -> AbstractContextManager[Engine]:
    """An engine on the configured database, which must exist; disposed on exit."""
    return storage.database.existing_database(settings.resolved_database_url)


def migrated_engine(settings: Settings, url: str | None = None) -> AbstractContextManager[Engine]:
    """An engine on the configured database (or `url`), migrated first; disposed on exit."""
    return storage.database.migrated_engine(url or settings.resolved_database_url)


def existing_database(settings: Settings) -> sessionmaker[Session]:
    """Sessions on a database that already exists: a read-only command creates nothing."""
    return make_session_factory(existing_engine(settings.resolved_database_url))


async def temporal_client(
    settings: Settings, runtime: Runtime | None = None, *, lazy: bool = False
) -> Client:
    """The client on the configured Temporal deployment (service.runtime.temporal.connect_options:
    address, namespace, TLS or API key, the data converter). `lazy`: connect on first use,
    so the web app starts, and /readyz says so, while Temporal is still down."""
    return await connect(settings, runtime, lazy=lazy)


def renderer(settings: Settings) -> MessageRenderer:
    """The message renderer on the configured template directory."""
    return MessageRenderer(settings.template_dir)


def force(settings: Settings) -> Force:
    return configured_force(settings)


def policy(settings: Settings, policy_id: str | None = None) -> Policy:
    return configured_policy(settings, policy_id)


async def web_server(settings: Settings) -> uvicorn.Server:
    """The app under uvicorn, on PLEDGE_WEB_HOST:PLEDGE_WEB_PORT, ready to `serve()`.

    The Temporal client connects lazily, so the app starts (and /readyz says so) while
    Temporal is still down.
    """
    import uvicorn

    from web.app import create_app

    app = create_app(
        settings,
        database(settings),
        await temporal_client(settings, lazy=True),
        policy=policy(settings),
        force=force(settings),
        backends=default_backends(settings),
        renderer=renderer(settings),
    )
    # JSON logs: uvicorn's loggers go through the root logger's JSON handler instead of
    # uvicorn's own console format.
    config = uvicorn.Config(
        app,
        host=settings.web_host,
        port=settings.web_port,
        log_level="info",
        log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
    )
    return uvicorn.Server(config)


@dataclass
class WorkerParts:
    sessions: sessionmaker[Session]
    backends: Mapping[Channel, DeliveryBackend]


def status_callback_url(settings: Settings) -> str | None:
    """Twilio reports delivery here (the web app); the outbox needs no callback."""
    if not twilio_configured(settings):
        return None
    return settings.public_base_url.rstrip("/") + "/twilio/status"


def alert_mailer(
    settings: Settings, sessions: sessionmaker[Session], force: Force | None = None
) -> AlertMailer | None:
    """Staff alert emails: over SMTP when a mail server is configured; in development
    (every channel on the local outbox, as `make run` is) into the local mail drop that
    /dev/outbox lists; otherwise none, and the alerts table is the record.

    Alerts go to the mailboxes in the force file (`force`, else the configured one)."""
    smtp = smtp_settings(settings)
    backend: DeliveryBackend
    if smtp is not None:
        backend = SmtpEmail(smtp)
    elif local_outbox_only(default_backends(settings)):
        backend = LocalMailDrop(
            mail_drop_dir(settings.data_dir), settings.mail_from, settings.mail_reply_to
        )
    else:
        return None
    return AlertMailer(
        sessions,
        renderer(settings),
        backend,
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
        renderer(settings),
        parts.backends,
        MessageSettings(
            force_name=settings.force_name,
            unit_name_pattern=settings.unit_name_pattern,
            status_callback_url=status_callback_url(settings),
            unit_names={unit.id: unit.name for unit in force.units},
        ),
    )
    retention = RetentionActivities(parts.sessions)
    return [
        schedules.compute_schedules,
        records.record_case_changes,
        messages.send_message,
        SendAndRecordActivities(parts.sessions, messages).send_and_record,
        retention.erase_expired_contacts,
    ]


def cache_workflow_bytecode(modules: Sequence[ModuleType]) -> None:
    """Write the bytecode of the workflow modules, even where PYTHONDONTWRITEBYTECODE is set.

    The sandbox imports a workflow's module afresh for every workflow run; without
    cached bytecode each case would compile the module's source again (about an
    eighth of a case's intake CPU, measured). Python still reads bytecode when it may not write it.
    A read-only source tree only loses the saving.
    """
    for module in modules:
        source = module.__file__
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
    # The modules the sandbox imports afresh for each case (the rest are passed through).
    cache_workflow_bytecode([workflows.case, workflows.side_effects])
    activities = settings.worker_max_concurrent_activities
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[CaseWorkflow, RetentionWorkflow],
        activities=activity_objects(settings, parts),
        activity_executor=ThreadPoolExecutor(max_workers=activities),
        max_concurrent_activities=activities,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        max_cached_workflows=settings.worker_max_cached_workflows,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_graceful_shutdown_seconds),
        # Counts what the activities did into the service's metrics (service/runtime/metrics.py).
        interceptors=[MetricsInterceptor()],
    )


def rehearsal_worker(
    client: Client, settings: Settings, sessions: sessionmaker[Session], task_queue: str
) -> Worker:
    """The case workflows on a rehearsal's time-skipping server, with the simulated backends."""
    parts = WorkerParts(sessions=sessions, backends=simulation_backends())
    return build_worker(client, settings, parts, task_queue=task_queue)


def parts_from_settings(settings: Settings) -> WorkerParts:
    """The worker's database and the configured delivery backends."""
    return WorkerParts(sessions=database(settings), backends=default_backends(settings))


async def run_worker(settings: Settings) -> None:
    """Poll the task queue until SIGTERM or SIGINT, then stop gracefully: polling stops at
    once, running activities have PLEDGE_WORKER_GRACEFUL_SHUTDOWN_SECONDS to finish (then
    they are cancelled), and the process exits 0."""
    from service.retention import ensure_retention_schedule
    from service.runtime.logs import configure_logging
    from service.runtime.temporal import (
        frontend_address,
        log_expected_retries_briefly,
        register_search_attributes,
    )
    from service.runtime.worker_metrics import serve_worker_metrics, worker_runtime

    configure_logging(settings)
    log_expected_retries_briefly()
    address = frontend_address(settings)
    runtime = worker_runtime(
        settings.worker_metrics_host,
        settings.worker_sdk_metrics_port,
        forward_logs=settings.log_format == "json",
    )
    client = await temporal_client(settings, runtime)
    await register_search_attributes(client, settings.temporal_namespace)
    await ensure_retention_schedule(client, settings)
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
