"""The Pledge Monitor worker: the only place (with the web app) that builds real clients.

Run it against an existing Temporal server with `python worker.py`; `pledge dev`
starts an embedded dev server and runs this same worker in-process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.delivery import DeliveryBackend, LocalOutbox, SimulatedSms
from activities.messages import MessageActivities, MessageSettings
from activities.records import CaseRecordActivities
from activities.rendering import Channel, MessageRenderer
from activities.schedules import ScheduleActivities
from service.settings import Settings
from storage.database import make_engine, make_session_factory, upgrade_to_head
from workflows.case import CaseWorkflow

log = logging.getLogger("pledge.worker")


@dataclass
class WorkerParts:
    sessions: sessionmaker[Session]
    backends: Mapping[Channel, DeliveryBackend]


def default_backends(settings: Settings) -> dict[Channel, DeliveryBackend]:
    outbox = LocalOutbox()
    return {Channel.SMS: outbox, Channel.EMAIL: outbox}


def simulation_backends() -> dict[Channel, DeliveryBackend]:
    """Rehearsals deliver at once, but for the provider-style SMS test numbers."""
    return {Channel.SMS: SimulatedSms(), Channel.EMAIL: LocalOutbox()}


def activity_objects(settings: Settings, parts: WorkerParts) -> Sequence[Any]:
    schedules = ScheduleActivities()
    records = CaseRecordActivities(parts.sessions)
    messages = MessageActivities(
        parts.sessions,
        MessageRenderer(settings.template_dir),
        parts.backends,
        MessageSettings(
            force_name=settings.force_name,
            unit_name_pattern=settings.unit_name_pattern,
            status_callback_url=None,
        ),
    )
    return [schedules.compute_schedules, records.record_case_changes, messages.send_message]


def build_worker(
    client: Client,
    settings: Settings,
    parts: WorkerParts,
    task_queue: str | None = None,
    max_concurrent_activities: int = 32,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[CaseWorkflow],
        activities=activity_objects(settings, parts),
        activity_executor=ThreadPoolExecutor(max_workers=max_concurrent_activities),
        max_concurrent_activities=max_concurrent_activities,
    )


def parts_from_settings(settings: Settings) -> WorkerParts:
    url = settings.resolved_database_url
    upgrade_to_head(url)
    return WorkerParts(
        sessions=make_session_factory(make_engine(url)), backends=default_backends(settings)
    )


async def main() -> None:
    from service.temporal import register_search_attributes

    logging.basicConfig(level=logging.INFO)
    settings = Settings()
    address = settings.temporal_address or f"127.0.0.1:{settings.temporal_port}"
    client = await Client.connect(address, namespace=settings.temporal_namespace)
    await register_search_attributes(client, settings.temporal_namespace)
    worker = build_worker(client, settings, parts_from_settings(settings))
    log.info("worker polling %s on %s", settings.task_queue, address)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
