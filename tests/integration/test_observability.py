"""Metrics, health and logs of a deployed worker and web app.

A real `pledge worker` process (JSON logs, metrics and SDK metrics ports) polls a dev
server; the web app runs on a socket; a case is opened and an obligation met over HTTP,
and both /metrics are scraped. SIGTERM then stops the worker cleanly.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from tests.support.api import CASES_URL, case_body, running_api, temporal_dev_server
from tests.support.dev import ROOT, free_port

SERVICE_METRICS = (
    "pledge_cases_opened",
    "pledge_obligations_met",
    "pledge_obligations_met_late",
    "pledge_obligations_breached",
    "pledge_messages",
    "pledge_alerts",
    "pledge_activity_failures",
    "pledge_api_requests",
)
VICTIM_NAME = "Philippa Stonebridge"
VICTIM_PHONE = "+447700900456"
WAIT_SECONDS = 60


@pytest_asyncio.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    async with temporal_dev_server() as env:
        yield env


class WorkerProcess:
    def __init__(
        self, process: subprocess.Popen[str], task_queue: str, metrics_port: int, sdk_port: int
    ) -> None:
        self.process = process
        self.task_queue = task_queue
        self.metrics_url = f"http://127.0.0.1:{metrics_port}"
        self.sdk_metrics_url = f"http://127.0.0.1:{sdk_port}/metrics"

    def stop(self) -> tuple[int, list[str]]:
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=WAIT_SECONDS)
        return self.process.returncode, output.splitlines()


@pytest.fixture
def worker_process(
    dev_server: WorkflowEnvironment, sqlite_url: str, tmp_path: Path
) -> Iterator[WorkerProcess]:
    metrics_port, sdk_port = free_port(), free_port()
    environment = {
        "PATH": str(Path(sys.executable).parent),
        "DATABASE_URL": sqlite_url,
        "PLEDGE_DATA_DIR": str(tmp_path),
        "PLEDGE_TEMPORAL_ADDRESS": dev_server.client.service_client.config.target_host,
        "PLEDGE_TASK_QUEUE": f"observed-{uuid.uuid4()}",
        "PLEDGE_LOG_FORMAT": "json",
        "PLEDGE_WORKER_METRICS_PORT": str(metrics_port),
        "PLEDGE_WORKER_SDK_METRICS_PORT": str(sdk_port),
        "PLEDGE_WORKER_GRACEFUL_SHUTDOWN_SECONDS": "5",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "worker"],
        env=environment,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker = WorkerProcess(process, environment["PLEDGE_TASK_QUEUE"], metrics_port, sdk_port)
    try:
        yield worker
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=WAIT_SECONDS)


def worker_health(worker: WorkerProcess) -> subprocess.CompletedProcess[str]:
    """`pledge worker-health`, as the container's health check runs it."""
    port = worker.metrics_url.rsplit(":", 1)[1]
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "worker-health"],
        env={"PATH": str(Path(sys.executable).parent), "PLEDGE_WORKER_METRICS_PORT": port},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
    )


def wait_healthy(url: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(url, timeout=2)
            if answer.status_code == 200:
                return
            last = f"{answer.status_code} {answer.text}"
        except httpx.TransportError as error:
            last = str(error)
        time.sleep(0.2)
    raise AssertionError(f"{url} not healthy within {WAIT_SECONDS} s: {last}")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def families(text: str) -> set[str]:
    return {family.name for family in text_string_to_metric_families(text)}


def value(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_health_and_json_logs_after_a_case_is_opened_and_an_obligation_met(
    dev_server: WorkflowEnvironment, sqlite_url: str, worker_process: WorkerProcess
) -> None:
    wait_healthy(f"{worker_process.metrics_url}/healthz")
    queue = worker_process.task_queue
    async with running_api(
        dev_server.client, sqlite_url, with_worker=False, task_queue=queue
    ) as api:
        body = case_body(name=VICTIM_NAME, phone=VICTIM_PHONE)
        opened = await api.post(CASES_URL, "all", body)
        assert opened.status_code == 201, opened.text
        reference = body["reference"]
        met = await api.post(
            f"{CASES_URL}/{reference.replace('/', '%2F')}/events",
            "writer",
            {
                "type": "contact_recorded",
                "at": datetime.now(UTC).isoformat(),
                "standard": "dv_contact",
            },
        )
        assert met.status_code == 200, met.text
        web_text = (await api.http.get("/metrics")).text

    async with httpx.AsyncClient(timeout=10) as http:
        worker_text = (await http.get(f"{worker_process.metrics_url}/metrics")).text
        sdk_text = (await http.get(worker_process.sdk_metrics_url)).text

    web = samples(web_text)
    assert value(web, "pledge_cases_opened_total") >= 1
    assert (
        value(web, "pledge_api_requests_total", route=CASES_URL, method="POST", status="201") >= 1
    )
    assert (
        value(
            web,
            "pledge_api_requests_total",
            route=f"{CASES_URL}/{{reference:path}}/events",
            method="POST",
            status="200",
        )
        >= 1
    )
    assert reference not in web_text, "a metric label carries the crime reference"

    worker = samples(worker_text)
    assert set(SERVICE_METRICS) <= families(worker_text)
    assert value(worker, "pledge_obligations_met_total", standard="dv_contact") == 1
    sent = {labels: v for (name, labels), v in worker.items() if name == "pledge_messages_total"}
    assert sum(sent.values()) >= 1, worker_text
    assert all(dict(labels)["channel"] in {"sms", "email", "none"} for labels in sent)
    assert reference not in worker_text

    sdk = families(sdk_text)
    assert any(name.startswith("temporal_") for name in sdk), sdk_text[:500]
    assert {"temporal_worker_task_slots_available", "temporal_num_pollers"} & sdk

    healthy = worker_health(worker_process)
    assert healthy.returncode == 0 and "worker polling" in healthy.stdout, healthy.stderr

    code, lines = worker_process.stop()
    assert code == 0, "\n".join(lines)
    stopped = worker_health(worker_process)
    assert stopped.returncode == 1
    assert "the worker is not healthy" in stopped.stderr and "Traceback" not in stopped.stderr
    records = [json.loads(line) for line in lines if line.strip()]
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    assert any(record["message"] == "worker stopped" for record in records)
    text = "\n".join(lines)
    assert VICTIM_NAME not in text and VICTIM_PHONE not in text
