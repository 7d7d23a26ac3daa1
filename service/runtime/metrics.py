"""The service's own Prometheus metrics (the worker's interceptor and port: worker_metrics.py).

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

from prometheus_client import Counter

from standards.contracts import CaseChanges, MessageOutcome
from standards.obligations import AlertKind, ObligationState

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
