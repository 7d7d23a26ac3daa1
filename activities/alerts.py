"""Staff alerts by email: each alert row is emailed once, to the borough VFU or its manager.

This runs in the worker, beside the activities, as a sweep over alerts not yet
emailed: the case workflow stays free of I/O and is never held up by a mail
server that is down, and an alert whose email failed is simply picked up by
the next sweep. `emailed_at` is the deduplication: a row that has it is never
emailed again. Each alert is emailed inside its own transaction holding the
row (FOR UPDATE SKIP LOCKED on PostgreSQL), so two workers never email the
same alert; if a worker dies between the SMTP server's acceptance and the
commit, the next sweep sends it again with the same Message-ID
(`alert:<id>`), which mail clients show as one message.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters.delivery import DeliveryBackend, Envelope, TransientDeliveryError
from messaging.rendering import AlertContext, MessageRenderer
from standards.clock import to_utc_iso
from standards.force import Force
from standards.policy import Policy, PolicyError, load_policy, policy_path
from standards.vocabulary import Channel, MessageStatus, RecipientRole
from storage import models

log = logging.getLogger("pledge.alerts")

DEFAULT_SWEEP_SECONDS = 30.0
DEFAULT_BATCH = 50


@dataclass(frozen=True)
class AlertMailSettings:
    # For a unit the force file gives no mailbox for (or one it no longer lists).
    vfu_email_pattern: str
    manager_email_pattern: str
    # The force's units: their mailboxes, and their names for the email's reader.
    force: Force | None = None


def borough_slug(borough: str) -> str:
    """ "Kensington and Chelsea" -> "kensington-and-chelsea", for an email local part."""
    return re.sub(r"[^a-z0-9]+", "-", borough.lower()).strip("-")


def alert_recipient(settings: AlertMailSettings, role: str, borough: str) -> str:
    """The unit's own mailbox from the force file, else the settings' pattern."""
    manager = role == RecipientRole.MANAGER
    unit = settings.force.unit(borough) if settings.force is not None else None
    if unit is not None:
        mailbox = unit.manager_email if manager else unit.vfu_email
        if mailbox:
            return mailbox
    pattern = settings.manager_email_pattern if manager else settings.vfu_email_pattern
    return pattern.format(borough=borough_slug(borough))


def borough_name(settings: AlertMailSettings, borough: str) -> str:
    return settings.force.display_name(borough) if settings.force is not None else borough


def default_title(standard: str) -> str:
    return standard.replace("_", " ").capitalize()


# The title of a standard under a policy: (policy id, standard id) -> title.
TitleOf = Callable[[str, str], str]


def policy_titles(policy_dir: Path) -> TitleOf:
    """Titles from the policy files, each read once; a standard the policy does not name
    (a manual-contact alert is keyed by its message template) keeps a title made from its id.
    """

    @functools.cache
    def policy(policy_id: str) -> Policy:
        return load_policy(policy_path(policy_dir, policy_id))

    def title_of(policy_id: str, standard: str) -> str:
        try:
            return policy(policy_id).standard(standard).title
        except (PolicyError, KeyError):
            return default_title(standard)

    return title_of


class AlertMailer:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        renderer: MessageRenderer,
        backend: DeliveryBackend,
        settings: AlertMailSettings,
        title_of: TitleOf,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = session_factory
        self._renderer = renderer
        self._backend = backend
        self._settings = settings
        self._title_of = title_of
        self._clock = clock
        # Alerts whose address the mail server refused outright: logged once, not retried
        # every sweep by this process (a restart tries them again after the address is fixed).
        self._refused: set[int] = set()

    @property
    def backend(self) -> DeliveryBackend:
        """Where the emails go: the mail server, or the local mail drop in development."""
        return self._backend

    def send_pending(self, limit: int = DEFAULT_BATCH) -> int:
        """Email alerts not yet emailed; returns how many were sent."""
        with self._sessions() as session:
            ids = list(
                session.scalars(
                    select(models.Alert.id)
                    .where(models.Alert.emailed_at.is_(None))
                    .order_by(models.Alert.id)
                    .limit(limit + len(self._refused))
                )
            )
        sent = 0
        for alert_id in ids:
            if alert_id in self._refused:
                continue
            try:
                sent += self._send_one(alert_id)
            except TransientDeliveryError as error:
                # The mail server is down or busy: the rest can wait for the next sweep.
                log.warning("alert emails postponed: %s", error)
                break
        return sent

    def _send_one(self, alert_id: int) -> int:
        with self._sessions.begin() as session:
            alert = session.scalar(
                select(models.Alert)
                .where(models.Alert.id == alert_id, models.Alert.emailed_at.is_(None))
                .with_for_update(skip_locked=True)
            )
            if alert is None:
                return 0  # another worker has it, or has sent it
            policy_id = session.scalar(
                select(models.Case.policy_id).where(models.Case.id == alert.case_id)
            )
            message = self._renderer.render_alert(
                AlertContext(
                    kind=alert.kind,
                    reference=alert.reference,
                    borough=borough_name(self._settings, alert.borough),
                    standard=alert.standard,
                    standard_title=self._title_of(policy_id or "", alert.standard),
                    due_at=to_utc_iso(alert.due_at) if alert.due_at else None,
                    detail=alert.detail,
                    recipient_role=alert.recipient_role,
                )
            )
            receipt = self._backend.send(
                Envelope(
                    idempotency_key=f"alert:{alert.id}",
                    channel=Channel.EMAIL,
                    recipient=alert_recipient(self._settings, alert.recipient_role, alert.borough),
                    message=message,
                )
            )
            if receipt.status == MessageStatus.FAILED:
                log.error("alert %d: the mail server refused it: %s", alert.id, receipt.error)
                self._refused.add(alert.id)
                return 0
            alert.emailed_at = self._clock()
            return 1


async def run_alert_mailer(
    mailer: AlertMailer, stop: asyncio.Event, interval: float = DEFAULT_SWEEP_SECONDS
) -> None:
    """Sweep until `stop` is set; SMTP is blocking, so each sweep runs in a thread."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(mailer.send_pending)
        except Exception:
            # A bad template or a database hiccup must not end the sweeps for good.
            log.exception("alert email sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
