"""The worker's side of the metrics: the interceptor that counts what activities did,
the SDK runtime with its Prometheus endpoint, and the worker's metrics and health port.

Apart from service/runtime/metrics.py (the counters) so that a `pledge` command that only counts
a case opened does not import the SDK's worker machinery.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from temporalio import activity
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from service.runtime.metrics import ACTIVITY_FAILURES, count_case_changes, count_message
from standards.contracts import (
    RECORD_CASE_CHANGES,
    SEND_AND_RECORD,
    SEND_MESSAGE,
    CaseChanges,
    MessageOutcome,
    SendAndRecord,
    SentAndRecorded,
)

log = logging.getLogger("pledge.metrics")


class _CountingActivities(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        name = activity.info().activity_type
        try:
            result = await super().execute_activity(input)
        except BaseException:
            ACTIVITY_FAILURES.labels(name).inc()
            raise
        try:
            if (
                name == RECORD_CASE_CHANGES
                and input.args
                and isinstance(input.args[0], CaseChanges)
            ):
                count_case_changes(input.args[0])
            elif name == SEND_MESSAGE and isinstance(result, MessageOutcome):
                count_message(result)
            elif (
                name == SEND_AND_RECORD
                and input.args
                and isinstance(input.args[0], SendAndRecord)
                and isinstance(result, SentAndRecorded)
            ):
                # The activity has added the reaction it recorded to its input's changes.
                count_case_changes(input.args[0].changes)
                for outcome in result.outcomes:
                    count_message(outcome)
        except Exception:  # a metric must never fail an activity that succeeded
            log.exception("counting the %s activity's result failed", name)
        return result


class MetricsInterceptor(Interceptor):
    """Counts activity outcomes into the service's metrics; add it to the worker."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CountingActivities(next)


def worker_runtime(
    metrics_host: str, sdk_metrics_port: int | None, forward_logs: bool
) -> Runtime | None:
    """The Temporal runtime of a worker process: its SDK metrics served for Prometheus at
    metrics_host:sdk_metrics_port/metrics, and (for JSON logs) the SDK core's own log
    lines sent through Python logging instead of its own console format. None when
    neither is wanted: the SDK's default runtime."""
    if sdk_metrics_port is None and not forward_logs:
        return None
    metrics = (
        PrometheusConfig(bind_address=f"{metrics_host}:{sdk_metrics_port}")
        if sdk_metrics_port is not None
        else None
    )
    logging_config = (
        LoggingConfig(
            filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
            forwarding=LogForwardingConfig(
                logger=logging.getLogger("temporalio.core"), append_log_fields_to_message=False
            ),
        )
        if forward_logs
        else LoggingConfig.default
    )
    return Runtime(telemetry=TelemetryConfig(metrics=metrics, logging=logging_config))


@dataclass
class MetricsServer:
    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_worker_metrics(host: str, port: int, healthy: Callable[[], bool]) -> MetricsServer:
    """GET /metrics (the service's metrics) and /healthz (200 while `healthy()`, else
    503) on host:port, from a thread of their own so a busy event loop cannot stall them."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._answer(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                ok = healthy()
                body = b'{"status":"ok"}' if ok else b'{"status":"not polling"}'
                self._answer(200 if ok else 503, body, "application/json")
            else:
                self._answer(404, b"not found: /metrics or /healthz", "text/plain")

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # scrapes every few seconds would drown the log

    server = ThreadingHTTPServer((host, port), Handler)
    thread = threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True)
    thread.start()
    return MetricsServer(server, thread)
