"""The web app: the HTTP API (web/api/) and the Twilio webhook.

The Twilio webhook: delivery status callbacks and inbound messages (STOP / START).

Every request must carry a valid `X-Twilio-Signature` over the public URL and
the form parameters; anything unsigned or forged gets 403 and changes nothing.
The webhook writes only to the outbox and victims tables, and tells a case's
workflow when one of its messages reached a final state. Without
PLEDGE_TWILIO_AUTH_TOKEN (the local outbox) its routes are not served: they answer 404.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from twilio.request_validator import RequestValidator

from adapters.delivery import TWILIO_OPTED_OUT, DeliveryBackend
from adapters.twilio_sms import PERMANENT_CODES, TWILIO_STATUS
from config import Settings
from messaging.rendering import MessageRenderer
from service.backends import default_backends
from service.cases import CaseIn
from service.configuration import configured_force, configured_policy, measures_policy
from standards.contracts import (
    MESSAGE_STATUS_SIGNAL,
    DeliveryStatus,
    MessageStatusUpdate,
    case_workflow_id,
)
from standards.delivery import FINAL_STATUS
from standards.force import Force
from standards.policy import Policy
from standards.vocabulary import Channel, MessageStatus
from storage import models
from web.api import cases, health, obligations
from web.api.context import ApiContext
from web.api.docs import install_docs
from web.api.limits import RateLimiter
from web.api.problems import install_problem_handlers, problem_response, problem_responses
from web.metrics import install_metrics
from web.pages.install import install_pages

log = logging.getLogger("pledge.web")

STATUS_PATH = "/twilio/status"
INBOUND_PATH = "/twilio/inbound"
SIGNATURE_HEADER = "X-Twilio-Signature"

# Twilio's standard opt-out and opt-in keywords (a whole message, any case).
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})

# Callbacks can arrive out of order: a late "sent" must not undo "delivered".
_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.UNDELIVERED: 2,
    MessageStatus.FAILED: 2,
}
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def status_callback_url(settings: Settings) -> str:
    """The URL Twilio is given, and so the URL its signatures are computed over."""
    return settings.public_base_url.rstrip("/") + STATUS_PATH


def intent_key_of(idempotency_key: str) -> str:
    """The case's message intent: the outbox key without its "|channel" suffix."""
    return idempotency_key.rsplit("|", 1)[0]


def create_app(
    settings: Settings,
    session_factory: sessionmaker[Session],
    temporal_client: Client,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    policy: Policy | None = None,
    force: Force | None = None,
    backends: Mapping[Channel, DeliveryBackend] | None = None,
    renderer: MessageRenderer | None = None,
    measures: Policy | None = None,
) -> FastAPI:
    """The whole web app; `policy` is the one new cases open under and `force` the units
    they may be opened in, `backends` and `renderer` what the pages send a victim's
    sign-in code with (default: the settings'), `measures` the policy whose measures the
    dashboard gives (default: service.configuration.measures_policy)."""
    app = FastAPI(
        title="Pledge Monitor",
        version="1",
        description="Opens cases and records events for a police force's promises to "
        "victims of crime; lists what is due. Errors are RFC 9457 problem documents.",
        docs_url=None,
        redoc_url=None,
    )
    install_problem_handlers(app)
    app.state.api = ApiContext(
        settings=settings,
        sessions=session_factory,
        temporal=temporal_client,
        policy=policy or configured_policy(settings),
        force=force or configured_force(settings),
        clock=clock,
        limiter=RateLimiter(settings.api_rate_per_minute, settings.api_rate_burst),
        measures_policy=measures or measures_policy(settings),
    )
    # The victim pages send sign-in codes with what the composition root hands over.
    app.state.message_backends = backends or default_backends(settings)
    app.state.message_renderer = renderer or MessageRenderer(settings.template_dir)
    app.include_router(health.router)
    app.include_router(cases.router)
    app.include_router(obligations.router)
    if settings.twilio_auth_token is not None:
        install_twilio_webhook(app, settings, session_factory, temporal_client, clock)
    install_docs(app, [CaseIn, cases.EventBody])
    install_pages(app)
    install_metrics(app)
    return app


def install_twilio_webhook(
    app: FastAPI,
    settings: Settings,
    session_factory: sessionmaker[Session],
    temporal_client: Client,
    clock: Callable[[], datetime],
) -> None:
    assert settings.twilio_auth_token is not None
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    public_base = settings.public_base_url.rstrip("/")

    async def signed_form(request: Request) -> dict[str, str] | None:
        # Parsed by hand: Twilio posts plain urlencoded forms, and the signature
        # must be checked over exactly the parameters that were sent.
        body = (await request.body()).decode("utf-8", errors="replace")
        params = dict(parse_qsl(body, keep_blank_values=True))
        signature = request.headers.get(SIGNATURE_HEADER)
        url = public_base + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        if not signature or not validator.validate(url, params, signature):
            log.warning("refused an unsigned or forged request to %s", request.url.path)
            return None
        return params

    @app.post(
        STATUS_PATH,
        tags=["twilio"],
        summary="Twilio delivery status callback (signed form post)",
        status_code=204,
        response_class=Response,
        responses=problem_responses(403, 503),
    )
    async def twilio_status(request: Request) -> Response:
        params = await signed_form(request)
        if params is None:
            return problem_response(403, "invalid or missing X-Twilio-Signature")
        sid = params.get("MessageSid") or params.get("SmsSid")
        status = TWILIO_STATUS.get(params.get("MessageStatus") or params.get("SmsStatus") or "")
        if not sid or status is None:
            return Response(status_code=204)
        code = params.get("ErrorCode") or None
        update_ = _apply_status(session_factory, sid, status, code, clock())
        if update_ is None:
            return Response(status_code=204)
        reference, message_update = update_
        try:
            handle = temporal_client.get_workflow_handle(case_workflow_id(reference))
            await handle.signal(MESSAGE_STATUS_SIGNAL, message_update)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                # The case's workflow has finished: there is nobody left to tell.
                log.info("case %s has no running workflow for %s", reference, sid)
                return Response(status_code=204)
            log.error("could not tell case %s about %s: %s", reference, sid, error)
            # Twilio may try again; the outbox update is idempotent and so is the signal.
            return problem_response(
                503, f"case {reference} could not be told", headers={"Retry-After": "5"}
            )
        return Response(status_code=204)

    @app.post(
        INBOUND_PATH,
        tags=["twilio"],
        summary="Twilio inbound message: STOP / START (signed form post)",
        response_class=Response,
        responses={
            200: {"content": {"text/xml": {"schema": {"type": "string"}}}, "description": "TwiML"},
            **problem_responses(403),
        },
    )
    async def twilio_inbound(request: Request) -> Response:
        params = await signed_form(request)
        if params is None:
            return problem_response(403, "invalid or missing X-Twilio-Signature")
        sender = params.get("From", "")
        word = " ".join(params.get("Body", "").split()).upper()
        if word in OPT_OUT_WORDS:
            _set_opt_out(session_factory, sender, True)
        elif word in OPT_IN_WORDS:
            _set_opt_out(session_factory, sender, False)
        # Twilio itself answers STOP and START; we add no reply of our own.
        return Response(EMPTY_TWIML, media_type="text/xml")


def _apply_status(
    sessions: sessionmaker[Session],
    sid: str,
    status: MessageStatus,
    code: str | None,
    now: datetime,
) -> tuple[str, MessageStatusUpdate] | None:
    """Record a provider's status on the outbox row; what the case should hear, if final."""
    with sessions.begin() as session:
        row = session.scalar(
            select(models.OutboxMessage).where(models.OutboxMessage.provider_id == sid)
        )
        if row is None:
            log.info("status %s for unknown message %s", status.value, sid)
            return None
        current = MessageStatus(row.status)
        if _RANK[status] > _RANK[current]:
            row.status = status
            if status == MessageStatus.DELIVERED:
                row.delivered_at = now
            if code:
                number = int(code) if code.isdigit() else None
                row.error = f"{code}: {PERMANENT_CODES.get(number or 0, 'Twilio error')}"
                if number == TWILIO_OPTED_OUT:
                    _mark_opted_out(session, row.case_id)
        final = FINAL_STATUS.get(MessageStatus(row.status))
        if final is None:
            return None
        reference = session.scalar(
            select(models.Case.reference).where(models.Case.id == row.case_id)
        )
        assert reference is not None
        # The row's own final state, not this callback's: a late duplicate tells the same story.
        return reference, MessageStatusUpdate(
            key=intent_key_of(row.idempotency_key),
            status=final,
            at=row.delivered_at if final == DeliveryStatus.DELIVERED and row.delivered_at else now,
            channel=row.channel,
            error=row.error,
        )


def _mark_opted_out(session: Session, case_id: int) -> None:
    session.execute(
        update(models.Victim).where(models.Victim.case_id == case_id).values(sms_opted_out=True)
    )


def _set_opt_out(sessions: sessionmaker[Session], phone: str, opted_out: bool) -> None:
    if not phone:
        return
    with sessions.begin() as session:
        victims = list(session.scalars(select(models.Victim).where(models.Victim.phone == phone)))
        for victim in victims:
            victim.sms_opted_out = opted_out
    log.info("sms %s for %d victim(s)", "stopped" if opted_out else "allowed", len(victims))
