"""With PLEDGE_PAYLOAD_KEYS set, what Temporal stores of a case is ciphertext: someone
reading the history without the keys (the cluster's operator, a backup) sees no case
data, and with the category search attribute switched off, not even the category."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest_asyncio
from google.protobuf.message import Message
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

import service.cases
from bootstrap import WorkerParts, build_worker, simulation_backends
from config import Settings
from service.cases import CaseIn
from service.runtime.encryption import ENCODING, KEY_ID_METADATA, new_key_text
from service.runtime.temporal import data_converter
from standards.contracts import case_workflow_id
from storage.database import make_engine, make_session_factory
from tests.workflows.conftest import FORCE, POLICY

NAME = "Ozymandias Quarterhouse"
EMAIL = "ozymandias@example.org"
CATEGORY = "domestic_abuse"


def sensitive_case(reference: str) -> CaseIn:
    return CaseIn.model_validate(
        {
            "reference": reference,
            "category": CATEGORY,
            "reported_at": "2026-03-02T09:00:00+00:00",
            "borough": "Camden",
            "vulnerable": True,
            "victim": {"name": NAME, "email": EMAIL, "preferred_channel": "email"},
        }
    )


def payloads_of(message: Message) -> list[Payload]:
    """Every Payload anywhere inside a protobuf message (a history, an event)."""
    if isinstance(message, Payload):
        return [message]
    found: list[Payload] = []
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            items = list(value.values())
        elif field.is_repeated:
            items = list(value)
        else:
            items = [value]
        found.extend(p for item in items if isinstance(item, Message) for p in payloads_of(item))
    return found


@dataclass
class EncryptedService:
    client: Client
    settings: Settings
    sessions: sessionmaker[Session]


@pytest_asyncio.fixture
async def encrypted(env: WorkflowEnvironment, sqlite_url: str) -> AsyncIterator[EncryptedService]:
    """A client and worker that encrypt; the test reads back with env.client (plain)."""
    settings = Settings(
        payload_keys=SecretStr(new_key_text("k1")),
        publish_category_search_attribute=False,
        task_queue=f"encrypted-{uuid.uuid4()}",
    )
    config = env.client.config()
    config["data_converter"] = data_converter(settings)
    client = Client(**config)
    engine = make_engine(sqlite_url)
    parts = WorkerParts(sessions=make_session_factory(engine), backends=simulation_backends())
    async with build_worker(client, settings, parts):
        yield EncryptedService(client, settings, parts.sessions)
    engine.dispose()


async def test_a_history_read_without_the_keys_shows_no_case_data(
    env: WorkflowEnvironment, encrypted: EncryptedService
) -> None:
    reference = f"01/{uuid.uuid4().int % 1_000_000:06d}/26"
    await service.cases.open_case(
        encrypted.client,
        encrypted.sessions,
        POLICY,
        sensitive_case(reference),
        encrypted.settings.task_queue,
        force=FORCE,
        publish_category=encrypted.settings.publish_category_search_attribute,
    )
    handle = env.client.get_workflow_handle(case_workflow_id(reference))
    history = History(events=(await handle.fetch_history()).events)
    await handle.terminate("test finished")

    payloads = payloads_of(history)
    assert len(payloads) > 3, "the case ran: its input, intake and activities"
    # Search attributes are the only plain payloads: Temporal must index them.
    plain = [p for p in payloads if p.metadata.get("encoding") != ENCODING]
    sealed = [p for p in payloads if p.metadata.get("encoding") == ENCODING]
    assert sealed and all(p.metadata[KEY_ID_METADATA] == b"k1" for p in sealed)
    stored = history.SerializeToString()
    for secret in (NAME, EMAIL, CATEGORY):
        assert secret.encode() not in stored, f"{secret!r} is readable in the history"
    # The case's input (its facts: reference, category, borough) is sealed.
    started = history.events[0].workflow_execution_started_event_attributes
    assert [p.metadata["encoding"] for p in started.input.payloads] == [ENCODING]
    # What stays plain is the SDK's own bookkeeping (local-activity markers' timing) and
    # the search attributes the cluster indexes; none of it names the case.
    for payload in plain:
        assert reference.encode() not in payload.data
