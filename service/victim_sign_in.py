"""Victims' sign-in by one-time code: asking for a code, sending it, checking it, sessions.

Nothing here tells the asker whether a reference exists, and nothing an asker does can
keep the victim out: a code works only in the browser that asked for it (its device
token), wrong codes lock only the device that typed them, and codes to one victim from
many devices are spaced out, not refused (see standards.victim_sign_in).

Nothing here tells the asker whether a reference exists. The page answers before any of
this looks the reference up (`send_code` runs after the answer has gone), a wrong code for
an unknown reference counts and locks exactly as one for a real case, and checking a code
always costs one Argon2 digest, whether or not there is a code to compare it with.

The code travels the case messages' send path (`delivery.send`): the victim's safe
channels in order (the preferred one first, falling back on a refusal), an outbox row
written before the hand-over, the configured backend (the local outbox, SMTP or Twilio).
With a real provider the outbox row keeps the message with the code blanked out: only its
digest is stored. With the local outbox the row *is* the delivery (`/dev/outbox` shows it).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from adapters.delivery import DeliveryBackend, Envelope, LocalOutbox, TransientDeliveryError
from config import Settings
from delivery.send import add_copy, hand_over, outcome_of, recipient, record
from messaging.rendering import (
    SIGN_IN_CODE_TEMPLATE,
    MessageContext,
    MessageRenderer,
    RenderedMessage,
    TemplateError,
)
from standards.contact import plan_channels, profile_of
from standards.delivery import DeliveryStatus, MessageOutcome, outbox_key, over_channels
from standards.victim_sign_in import (
    CodeRequestOutcome,
    SignInRules,
    WrongCodes,
    address_may_request,
    address_may_request_again_at,
    after_sign_in,
    after_wrong_code,
    code_expires_at,
    code_matches,
    code_usable,
    device_may_be_sent,
    hash_code,
    locked,
    new_code,
    reference_may_be_sent_at,
    session_active,
)
from standards.vocabulary import Channel, MessageStatus
from storage import models
from storage.outbox import SqlOutbox
from storage.victim_models import (
    VictimCodeRequest,
    VictimSession,
    VictimSignInCode,
    VictimWrongCodes,
)

log = logging.getLogger("pledge.victims")

# Compared against when there is no live code, so an unknown reference costs the same.
_NO_CODE_HASH = hash_code(new_code())
_WITHHELD = "••••••"


def rules_from(settings: Settings) -> SignInRules:
    return SignInRules(
        code_lifetime=timedelta(minutes=settings.victim_code_lifetime_minutes),
        max_wrong_codes=settings.victim_code_max_wrong,
        lock_duration=timedelta(minutes=settings.victim_code_lock_minutes),
        requests_per_address=settings.victim_code_requests_per_address,
        request_window=timedelta(minutes=settings.victim_code_request_window_minutes),
        codes_per_reference=settings.victim_codes_per_reference,
        session_idle=timedelta(minutes=settings.victim_session_idle_minutes),
    )


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class CodeSender:
    """What sending a code needs; built once per web app."""

    sessions: sessionmaker[Session]
    renderer: MessageRenderer
    backends: Mapping[Channel, DeliveryBackend]
    rules: SignInRules
    force_name: str
    contact_number: str


@dataclass(frozen=True)
class CodeRequestAnswer:
    """Accepted (`request_id` to send for), or refused for this address until `retry_at`."""

    request_id: int | None = None
    retry_at: datetime | None = None


def accept_code_request(
    sessions: sessionmaker[Session],
    reference: str,
    address: str,
    device: str,
    now: datetime,
    rules: SignInRules,
) -> CodeRequestAnswer:
    """Record a request for a code from a device (the browser's random device token),
    unless this address has asked too often lately."""
    address_hash = digest(address)
    with sessions.begin() as session:
        earlier = list(
            session.scalars(
                select(VictimCodeRequest.at).where(
                    VictimCodeRequest.address_hash == address_hash,
                    VictimCodeRequest.at > now - rules.request_window,
                )
            )
        )
        if not address_may_request(earlier, now, rules):
            return CodeRequestAnswer(retry_at=address_may_request_again_at(earlier, now, rules))
        request = VictimCodeRequest(
            address_hash=address_hash, reference=reference, at=now, device_hash=digest(device)
        )
        session.add(request)
        session.flush()
        return CodeRequestAnswer(request_id=request.id)


def send_code(sender: CodeSender, request_id: int, now: datetime) -> CodeRequestOutcome:
    """Send a code for an accepted request if its reference has a case that may have one.

    Runs after the page has answered. Outside the victim's safe hours nothing is sent or
    queued (the code would be dead before the hours open); the page told every asker that
    codes come only at safe times and gave the number to call.
    """
    try:
        outcome = _send_code(sender, request_id, now)
    except Exception:
        # After the answer there is nobody to show an error to; staff see it in the log
        # and in the request's outcome.
        log.exception("code request %d: sending failed", request_id)
        outcome = CodeRequestOutcome.FAILED
    with sender.sessions.begin() as session:
        session.execute(
            update(VictimCodeRequest)
            .where(VictimCodeRequest.id == request_id)
            .values(outcome=outcome.value)
        )
    return outcome


def _send_code(sender: CodeSender, request_id: int, now: datetime) -> CodeRequestOutcome:
    with sender.sessions() as session:
        request = session.get(VictimCodeRequest, request_id)
        assert request is not None
        case = session.scalar(select(models.Case).where(models.Case.reference == request.reference))
        if case is None or case.victim is None:
            return CodeRequestOutcome.NO_SUCH_CASE
        victim = case.victim
        plan = plan_channels(profile_of(victim), now, [])
        if victim.do_not_contact:
            return CodeRequestOutcome.DO_NOT_CONTACT
        if plan.blocked is not None or not plan.channels:
            return CodeRequestOutcome.NO_SAFE_CHANNEL
        if plan.wait_until is not None:
            return CodeRequestOutcome.OUTSIDE_SAFE_HOURS
        device_hash = request.device_hash
        sent_before = list(
            session.execute(
                select(VictimSignInCode.issued_at, VictimSignInCode.device_hash).where(
                    VictimSignInCode.case_id == case.id,
                    VictimSignInCode.issued_at > now - sender.rules.request_window,
                )
            )
        )
        to_device = [at for at, device in sent_before if device == device_hash]
        if device_hash is None or not device_may_be_sent(to_device, now, sender.rules):
            return CodeRequestOutcome.REFERENCE_LIMIT
        if reference_may_be_sent_at([at for at, _ in sent_before], now, sender.rules) > now:
            return CodeRequestOutcome.REFERENCE_BACKOFF
        code = new_code()
        row = VictimSignInCode(
            case_id=case.id,
            code_hash=hash_code(code),
            channel=plan.channels[0],
            issued_at=now,
            expires_at=code_expires_at(now, sender.rules),
            device_hash=device_hash,
        )
        # Only the device's newest code works: an older one still in a message is dead.
        # Another device's request never ends the victim's own code.
        session.execute(
            update(VictimSignInCode)
            .where(
                VictimSignInCode.case_id == case.id,
                VictimSignInCode.device_hash == device_hash,
                VictimSignInCode.used_at.is_(None),
                VictimSignInCode.expires_at > now,
            )
            .values(expires_at=now)
        )
        session.add(row)
        session.commit()
        outbox = SqlOutbox(session, case.id, victim, settle=session.commit)
        sent = over_channels(
            plan.channels,
            lambda channel: _deliver(
                sender, outbox, case, victim, Channel(channel), row, code, now
            ),
        )
        if sent.status == DeliveryStatus.FAILED:
            # No channel took it: the code must not stay usable.
            row.expires_at = now
            session.commit()
            return CodeRequestOutcome.FAILED
        row.channel = sent.channel or row.channel
        session.commit()
        return CodeRequestOutcome.SENT


def _deliver(
    sender: CodeSender,
    outbox: SqlOutbox,
    case: models.Case,
    victim: models.Victim,
    channel: Channel,
    code_row: VictimSignInCode,
    code: str,
    now: datetime,
) -> MessageOutcome:
    """Hand one channel's copy to its backend, on the case messages' send path
    (`delivery.send`: its outbox row, key, hand-over and receipt), but for what a code
    needs differently: the row keeps the code withheld unless it is the local outbox's
    own message; the mark is committed before any backend, in-house too, since a code is
    sent once and never recovered; and a temporary failure fails the channel now (no
    retry later: by then the code may be dead), so the next channel is tried at once."""
    try:
        message = sender.renderer.render(
            SIGN_IN_CODE_TEMPLATE,
            channel,
            MessageContext(
                reference=case.reference,
                contact_number=sender.contact_number,
                force_name=sender.force_name,
                victim_name=victim.name,
                category=case.category,
                borough=case.borough,
                discreet=victim.discreet,
                sign_in_code=code,
                code_lifetime_minutes=int(sender.rules.code_lifetime.total_seconds() // 60),
                language=victim.language,
            ),
        )
    except TemplateError:
        log.exception("code for case %d: the %s template failed", case.id, channel.value)
        return MessageOutcome(status=DeliveryStatus.FAILED, error="the template failed")
    to = recipient(channel, victim.email, victim.phone)
    backend = sender.backends[channel]
    # The local outbox row is the message itself; a real provider's copy is the record.
    kept = message if isinstance(backend, LocalOutbox) else _withheld(message, code)
    key = outbox_key(f"{SIGN_IN_CODE_TEMPLATE}:{code_row.id}", channel.value)
    row = add_copy(outbox, key, channel, to, kept, None, now)
    envelope = Envelope(idempotency_key=key, channel=channel, recipient=to, message=message)
    try:
        receipt = hand_over(outbox, row, backend, envelope, now, mark=True)
    except TransientDeliveryError as error:
        row.error = f"not sent: {error}"
        outbox.settle(row, MessageStatus.FAILED)
        return outcome_of(row)
    return record(outbox, row, receipt, now)


def _withheld(message: RenderedMessage, code: str) -> RenderedMessage:
    return replace(
        message,
        subject=message.subject.replace(code, _WITHHELD) if message.subject else None,
        text=message.text.replace(code, _WITHHELD),
        html=message.html.replace(code, _WITHHELD) if message.html else None,
    )


@dataclass(frozen=True)
class CodeCheck:
    """Signed in (`token` for the cookie), locked until `locked_until`, or a wrong code."""

    token: str | None = None
    locked_until: datetime | None = None


def check_code(
    sessions: sessionmaker[Session],
    reference: str,
    device: str,
    code: str,
    now: datetime,
    rules: SignInRules,
) -> CodeCheck:
    """Sign in with a code: the newest live code this device asked for of the reference's
    case, used once. Wrong codes count, and lock, for this device alone."""
    device_hash = digest(device)
    with sessions.begin() as session:
        counter = _wrong_codes_row(session, reference, device_hash)
        state = WrongCodes(counter.count, counter.last_at, counter.locked_until)
        if locked(state, now):
            return CodeCheck(locked_until=state.locked_until)
        live = session.execute(
            select(VictimSignInCode)
            .join(models.Case, models.Case.id == VictimSignInCode.case_id)
            .where(
                models.Case.reference == reference,
                VictimSignInCode.device_hash == device_hash,
                VictimSignInCode.used_at.is_(None),
                VictimSignInCode.expires_at > now,
            )
            .order_by(VictimSignInCode.issued_at.desc(), VictimSignInCode.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        matches = code_matches(code, live.code_hash if live is not None else _NO_CODE_HASH)
        if live is not None and matches and code_usable(live.expires_at, live.used_at, now):
            # Single use even against a concurrent check of the same code.
            used = cast(
                CursorResult[Any],
                session.execute(
                    update(VictimSignInCode)
                    .where(VictimSignInCode.id == live.id, VictimSignInCode.used_at.is_(None))
                    .values(used_at=now)
                ),
            )
            if used.rowcount == 1:
                _store(counter, after_sign_in())
                token = secrets.token_urlsafe(32)
                session.add(
                    VictimSession(
                        token_hash=digest(token),
                        case_id=live.case_id,
                        created_at=now,
                        last_seen_at=now,
                    )
                )
                return CodeCheck(token=token)
        state = after_wrong_code(state, now, rules)
        _store(counter, state)
        return CodeCheck(locked_until=state.locked_until if locked(state, now) else None)


def _wrong_codes_row(session: Session, reference: str, device_hash: str) -> VictimWrongCodes:
    """The counter of the reference on this device, created if new and held for this
    transaction (two checks at once must not both read the old count)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(VictimWrongCodes)
        .values(reference=reference, device_hash=device_hash, count=0)
        .on_conflict_do_nothing(index_elements=["reference", "device_hash"])
    )
    row = session.scalar(
        select(VictimWrongCodes)
        .where(VictimWrongCodes.reference == reference, VictimWrongCodes.device_hash == device_hash)
        .with_for_update()
    )
    assert row is not None
    return row


def _store(row: VictimWrongCodes, state: WrongCodes) -> None:
    row.count, row.last_at, row.locked_until = state.count, state.last_at, state.locked_until


def signed_in_case(
    sessions: sessionmaker[Session], token: str, now: datetime, rules: SignInRules
) -> int | None:
    """The case a session token is signed in to (and the session kept alive), or None."""
    with sessions.begin() as session:
        row = session.scalar(select(VictimSession).where(VictimSession.token_hash == digest(token)))
        if row is None or not session_active(row.last_seen_at, row.ended_at, now, rules):
            return None
        row.last_seen_at = now
        return row.case_id


def end_session(sessions: sessionmaker[Session], token: str, now: datetime) -> None:
    with sessions.begin() as session:
        session.execute(
            update(VictimSession)
            .where(VictimSession.token_hash == digest(token), VictimSession.ended_at.is_(None))
            .values(ended_at=now)
        )
