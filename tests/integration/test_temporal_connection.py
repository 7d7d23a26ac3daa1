"""Connecting to any Temporal deployment from the settings: address, namespace, mutual
TLS, an API key; and the worker's tuning.

The dev server speaks plain gRPC only, so mutual TLS is tested through a TLS front
(tests/support/tls.py) that requires a client certificate from the test CA."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from bootstrap import WorkerParts, build_worker
from config import Settings
from service.backends import default_backends
from service.runtime.temporal import (
    ConnectionSettingsError,
    TemporalUnavailable,
    connect,
    connect_options,
    tls_config,
)
from storage.database import make_engine, make_session_factory
from tests.support.api import temporal_dev_server
from tests.support.tls import SERVER_NAME, Certificates, make_certificates, mutual_tls_front


@pytest_asyncio.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    async with temporal_dev_server() as env:
        yield env


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path)


def mtls_settings(address: str, certificates: Certificates, **changes: object) -> Settings:
    values: dict[str, object] = {
        "temporal_address": address,
        "temporal_tls_ca_file": certificates.ca,
        "temporal_tls_cert_file": certificates.client_cert,
        "temporal_tls_key_file": certificates.client_key,
        "temporal_tls_server_name": SERVER_NAME,
        "temporal_timeout_seconds": 5.0,
        **changes,
    }
    return Settings.model_validate(values)


async def test_a_client_connects_over_mutual_tls_with_the_configured_certificates(
    dev_server: WorkflowEnvironment, certificates: Certificates
) -> None:
    backend = dev_server.client.service_client.config.target_host
    async with mutual_tls_front(certificates, backend) as front:
        client = await connect(mtls_settings(front, certificates))
        assert await client.service_client.check_health()
        described = await client.workflow_service.get_system_info(GetSystemInfoRequest())
        assert described.server_version


async def test_a_client_certificate_from_another_authority_is_refused(
    dev_server: WorkflowEnvironment, certificates: Certificates
) -> None:
    backend = dev_server.client.service_client.config.target_host
    async with mutual_tls_front(certificates, backend) as front:
        stranger = mtls_settings(
            front,
            certificates,
            temporal_tls_cert_file=certificates.stranger_cert,
            temporal_tls_key_file=certificates.stranger_key,
        )
        with pytest.raises(TemporalUnavailable, match=f"the Temporal server at {front}"):
            await connect(stranger)


async def test_without_a_client_certificate_the_mutual_tls_server_refuses(
    dev_server: WorkflowEnvironment, certificates: Certificates
) -> None:
    backend = dev_server.client.service_client.config.target_host
    async with mutual_tls_front(certificates, backend) as front:
        anonymous = mtls_settings(
            front, certificates, temporal_tls_cert_file=None, temporal_tls_key_file=None
        )
        with pytest.raises(TemporalUnavailable):
            await connect(anonymous)


def test_the_settings_become_the_sdk_tls_config(certificates: Certificates) -> None:
    config = tls_config(mtls_settings("temporal:7233", certificates))
    assert config == TLSConfig(
        server_root_ca_cert=certificates.ca.read_bytes(),
        domain=SERVER_NAME,
        client_cert=certificates.client_cert.read_bytes(),
        client_private_key=certificates.client_key.read_bytes(),
    )


def test_plain_by_default_and_tls_with_system_authorities_for_an_api_key() -> None:
    assert tls_config(Settings()) is False
    assert tls_config(Settings(temporal_tls=True)) is True
    options = connect_options(
        Settings(temporal_address="ns.tmprl.example:7233", temporal_api_key="secret")
    )
    assert options["tls"] is True
    assert options["api_key"] == "secret"
    assert options["target_host"] == "ns.tmprl.example:7233"


def test_a_certificate_without_its_key_is_one_clear_error(certificates: Certificates) -> None:
    with pytest.raises(ConnectionSettingsError, match=r"needs both .*CERT_FILE and .*KEY_FILE"):
        tls_config(mtls_settings("t:7233", certificates, temporal_tls_key_file=None))


def test_an_unreadable_certificate_file_names_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "absent.pem"
    with pytest.raises(
        ConnectionSettingsError, match=f"^PLEDGE_TEMPORAL_TLS_CA_FILE={missing} cannot be read"
    ):
        tls_config(Settings(temporal_tls_ca_file=missing))


async def test_the_worker_takes_its_tuning_from_the_settings(
    dev_server: WorkflowEnvironment, sqlite_url: str
) -> None:
    settings = Settings(
        database_url=sqlite_url,
        task_queue="tuned",
        worker_max_concurrent_activities=7,
        worker_max_concurrent_workflow_tasks=5,
        worker_max_cached_workflows=123,
        worker_graceful_shutdown_seconds=12,
    )
    parts = WorkerParts(
        sessions=make_session_factory(make_engine(sqlite_url)), backends=default_backends(settings)
    )
    config = build_worker(dev_server.client, settings, parts).config()
    assert config["task_queue"] == "tuned"
    assert config["max_concurrent_activities"] == 7
    assert config["max_concurrent_workflow_tasks"] == 5
    assert config["max_cached_workflows"] == 123
    assert config["graceful_shutdown_timeout"] == timedelta(seconds=12)
