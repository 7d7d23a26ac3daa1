"""`/dev/outbox`: what the local outbox "sent", sign-in codes included, for development.

Served only when the local outbox is the delivery backend of every channel, which is
decided exactly as the worker decides it (`service.backends.default_backends`): no
PLEDGE_SMTP_HOST, and no complete set of Twilio settings. With either configured,
messages really leave, and this page answers 404 as if it did not exist. It lists live
codes and victims' details, so it is also served only for development on this machine:
the service's public address is a loopback one and the request comes from loopback;
anything else gets the same 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from adapters.mail_drop import mail_drop_dir, newest_mail
from messaging.display import minute_text
from service.backends import local_outbox_only
from storage import models
from web.pages.rendering import render
from web.pages.staff_auth import served_for_development
from web.pages.victim import VICTIM_HEADERS, victim_pages

DEV_OUTBOX_PATH = "/dev/outbox"
LISTED = 50

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class OutboxLine:
    at: str
    reference: str
    channel: str
    recipient: str
    subject: str | None
    body: str


@router.get(DEV_OUTBOX_PATH, response_class=HTMLResponse)
def dev_outbox(request: Request) -> HTMLResponse:
    pages = victim_pages(request)
    if not (
        local_outbox_only(pages.backends) and served_for_development(request, pages.api.settings)
    ):
        raise HTTPException(status_code=404, detail="Not Found")
    with pages.api.sessions() as session:
        rows = session.execute(
            select(models.OutboxMessage, models.Case.reference)
            .join(models.Case, models.Case.id == models.OutboxMessage.case_id)
            .order_by(models.OutboxMessage.id.desc())
            .limit(LISTED)
        ).all()
        lines = [
            OutboxLine(
                at=minute_text(row.created_at),
                reference=reference,
                channel=row.channel,
                recipient=row.recipient,
                subject=row.subject,
                body=row.body,
            )
            for row, reference in rows
        ]
    # Staff alert emails (bootstrap.alert_mailer's local mail drop): never in the table above.
    staff = [
        OutboxLine(
            at=minute_text(mail.at),
            reference="",
            channel="email",
            recipient=mail.recipient,
            subject=mail.subject,
            body=mail.body,
        )
        for mail in newest_mail(mail_drop_dir(pages.api.settings.data_dir), LISTED)
    ]
    response = render(
        request,
        "dev_outbox.html",
        {"messages": lines, "staff_emails": staff, "limit": LISTED},
        no_store=True,
    )
    response.headers.update(VICTIM_HEADERS)
    return response
