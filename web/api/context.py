"""What every API route needs, built once by the app and reached through the request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from config import Settings
from service.bounded_writes import SingleFlight
from standards.contracts import EventReceipt
from standards.force import Force
from standards.policy import Policy
from web.api.limits import RateLimiter


@dataclass
class ApiContext:
    settings: Settings
    sessions: sessionmaker[Session]
    temporal: Client
    policy: Policy
    force: Force
    clock: Callable[[], datetime]
    limiter: RateLimiter
    # The policy whose measures the dashboard gives (service.configuration.measures_policy).
    measures_policy: Policy | None = None
    # A retry that arrives while its first request is still running shares its outcome.
    opening: SingleFlight[int] = field(default_factory=SingleFlight)
    posting: SingleFlight[EventReceipt] = field(default_factory=SingleFlight)


def api_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.api
    return context
