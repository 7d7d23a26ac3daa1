"""The service's own Prometheus metrics, and the worker's metrics and health port.

The worker counts what its activities did through an interceptor (the activities and
workflows themselves know nothing of metrics): obligations met, met late and breached
by standard, messages by channel and outcome, alerts by kind, and activity failures.
The web app counts API requests by route and status (web/metrics.py) and cases opened.
The Temporal SDK's own metrics (task latencies, poll counts, cache size) are served by
the SDK runtime on a port of their own (PLEDGE_WORKER_SDK_METRICS_PORT).

Labels never carry a reference, a name or any other personal detail: only standards,
channels, outcomes, kinds, activity names, routes and status codes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, generate_latest
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

from standards.obligations import AlertKind, ObligationState
from workflows.contracts import RECORD_CASE_CHANGES, SEND_MESSAGE, CaseChanges, MessageOutcome

log = logging.getLogger("pledge.metrics")

CASES_OPENED = Counter("pledge_cases_opened", "Cases opened (their workflow started)")
OBLIGATIONS_MET = Counter(
    "pledge_obligations_met", "Obligations met within their deadline", ["standard"]
)
OBLIGATIONS_MET_LATE = Counter(
    "pledge_obligations_met_late", "Obligations met after their deadline", ["standard"]
)
OBLIGATIONS_BREACHED = Counter(
    "pledge_obligations_breached", "Obligations whose deadline passed unmet", ["standard"]
)
MESSAGES = Counter(
    "pledge_messages", "Victim messages by channel and delivery outcome", ["channel", "outcome"]
)
ALERTS = Counter("pledge_alerts", "Staff alerts raised, by kind", ["kind"])
ACTIVITY_FAILURES = Counter(
    "pledge_activity_failures", "Activity attempts that raised, by activity", ["activity"]
)
API_REQUESTS = Counter(
    "pledge_api_requests",
    "HTTP requests by route, method and status",
    ["route", "method", "status"],
)

NO_CHANNEL = "none"


def count_case_changes(changes: CaseChanges) -> None:
    """Count what one recorded batch of a case's changes settled.

    A met obligation reaches its final state once, so it is counted when recorded in that
    state; a breach is counted by its breach alert, which is raised once per breach (a
    breached obligation stays open and may be recorded again before it is met late).
    """
    for obligation in changes.obligations:
        if obligation.state == ObligationState.MET:
            OBLIGATIONS_MET.labels(obligation.standard).inc()
        elif obligation.state == ObligationState.MET_LATE:
            OBLIGATIONS_MET_LATE.labels(obligation.standard).inc()
    for alert in changes.alerts:
        ALERTS.labels(alert.kind.value).inc()
        if alert.kind == AlertKind.BREACH:
            OBLIGATIONS_BREACHED.labels(alert.standard).inc()


def count_message(outcome: MessageOutcome) -> None:
    MESSAGES.labels(outcome.channel or NO_CHANNEL, outcome.status.value).inc()


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
