"""The one way mail comes in: the SMTP listener, the IMAP poller and the API call `ingest`.

`ingest` stores the raw bytes, then parses and routes them, and commits both in one
transaction before it returns, so a transport acknowledges a message (SMTP 250, IMAP
flag, HTTP 202) only once it is safe. It raises only when it cannot commit (the database
is down or locked past its timeout): transports answer with a temporary failure and the
sender retries. Nothing in a message's content makes it raise: what cannot be taken in
is quarantined with the reason, its bytes kept, for an admin to reprocess.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)

from caredesk.core.clock import now
from caredesk.core.errors import Conflict, DomainError
from caredesk.core.prepared import insert, update
from caredesk.mail import charsets, classify, flags, threads
from caredesk.mail.models import InboundEmail
from caredesk.mail.parse import ParsedMail, ParseError, clean_address, digest, parse
from caredesk.mail.parse import quick_message_id as _quick_message_id
from caredesk.people.models import User
from caredesk.people.services import find_or_create_contact, user_by_email
from caredesk.servicemodel.cache import snapshot
from caredesk.servicemodel.choices import Channel
from caredesk.tickets import services as tickets
from caredesk.tickets.events import record
from caredesk.tickets.models import Ticket
from caredesk.tickets.states import Status

log = logging.getLogger(__name__)

# Acknowledgements per sender: enough for a person who writes several new requests, too
# few for two auto-responders to keep each other busy (RFC 3834 section 2).
ACKS_PER_HOUR = 3
ACKS_PER_DAY = 10
# New cases per sender: beyond this an unanswered robot's mail waits in quarantine (kept,
# reprocessable) instead of filling the queue; far above what a person sends in an hour.
CASES_PER_HOUR = 20

STATUSES = ("stored", "duplicate", "quarantined", "ignored")
PROCESSED_FIELDS = [
    f.name
    for f in InboundEmail._meta.concrete_fields
    if f.name not in ("id", "raw", "size", "digest", "message_id", "source", "received_at")
]


@dataclass(frozen=True)
class IntakeResult:
    status: str  # one of STATUSES
    inbound_id: int
    ticket: str | None
    reason: str


class Quarantine(Exception):  # a verdict on the message, not a failure of ours
    """This message cannot be taken in as it is; the text says why."""


def ingest(
    raw: bytes,
    *,
    source: str,
    envelope_from: str | None = None,
    envelope_to: Sequence[str] = (),
) -> IntakeResult:
    """Take in one raw RFC 5322 message; committed when this returns."""
    raw = bytes(raw)
    key = _quick_message_id(raw)
    sha = digest(raw)
    # Parsing needs no database: done before the transaction, so that on SQLite the write
    # lock, which every other intake thread and process waits for, is held for less time.
    mail = _read(raw)
    row = InboundEmail(
        raw=raw,
        size=len(raw),
        digest=sha,
        message_id=key,
        source=source if source in InboundEmail.Source.values else "api",
        # "<>" is the null sender of bounces; "" means the transport gave none.
        envelope_from=_envelope_sender(envelope_from),
        envelope_to=[_printable(a)[:320] for a in envelope_to][:100],
        received_at=now(),
        status=InboundEmail.Status.QUARANTINED,
        reason="Not processed yet.",
    )
    if isinstance(mail, Exception):
        return _keep_quarantined(row, _verdict(mail))
    inserted = False
    try:
        with transaction.atomic():
            # The unique (Message-ID, digest) index decides: no look-up first, one insert
            # that fails for the second delivery of the same message, also when both race.
            insert(row)
            inserted = True
            _accept(row, mail)
        return _result(row)
    except (OperationalError, InterfaceError):
        raise  # cannot commit: the transport answers "try again later"
    except IntegrityError as exc:
        if not inserted:
            if (known := _known(key, sha)) is None:
                raise
            return _duplicate(known)
        reason = _verdict(exc)
    except Exception as exc:  # never lose a message to a bug: kept, with why
        reason = _verdict(exc)
    # Whatever routing wrote was undone with its transaction (no savepoint on the busiest
    # path); the message is kept, quarantined, in a transaction of its own.
    return _keep_quarantined(row, reason)


def _keep_quarantined(row: InboundEmail, reason: str) -> IntakeResult:
    _quarantined(row, reason, now())
    row.pk, row._state.adding = None, True
    row.flags = {}
    try:
        with transaction.atomic():
            insert(row)
    except IntegrityError:
        if (known := _known(row.message_id, row.digest)) is None:
            raise
        return _duplicate(known)
    return _result(row)


def reprocess(inbound: InboundEmail) -> IntakeResult:
    """Run a quarantined message through intake again (after a fix or a raised limit)."""
    with transaction.atomic():
        row = InboundEmail.objects.select_for_update().get(pk=inbound.pk)
        if row.status != InboundEmail.Status.QUARANTINED:
            raise Conflict(
                f"Message {row.pk} is {row.status}; only quarantined mail is reprocessed.",
                field="status",
            )
        _process(row, _read(bytes(row.raw)))
    return _result(row)


# --- steps -------------------------------------------------------------------------------


def _envelope_sender(value: str | None) -> str:
    if value is None:
        return ""
    value = _printable(value)
    return "<>" if value in ("", "<>") else value[:500]


def _printable(value: object) -> str:
    # Envelope values come straight from the transport: no controls reach the database.
    return charsets.CONTROL.sub("", str(value)).strip()


def _known(key: str, sha: str) -> InboundEmail | None:
    return (
        InboundEmail.objects.filter(message_id=key, digest=sha)
        .only("id", "status", "ticket__number", "reason")
        .select_related("ticket")
        .first()
    )


def _duplicate(known: InboundEmail) -> IntakeResult:
    return IntakeResult(
        "duplicate",
        known.pk,
        known.ticket.number if known.ticket else None,
        f"Already taken in as message {known.pk} ({known.status}).",
    )


def _result(row: InboundEmail) -> IntakeResult:
    return IntakeResult(
        str(row.status), row.pk, row.ticket.number if row.ticket else None, row.reason
    )


def _read(raw: bytes) -> ParsedMail | Exception:
    """The parsed message, or what stopped it (for _process to judge): never raises."""
    try:
        if len(raw) > settings.MAIL_MAX_BYTES:
            raise Quarantine(
                f"The message is {len(raw)} bytes, over the limit of {settings.MAIL_MAX_BYTES}."
            )
        return parse(raw)
    except Exception as exc:  # a verdict on the message, judged in _process
        return exc


def _process(row: InboundEmail, mail: ParsedMail | Exception) -> None:
    """Route the parsed message of a stored row (reprocessing); anything that goes wrong
    but the database quarantines it."""
    try:
        with transaction.atomic():
            if isinstance(mail, Exception):
                raise mail
            _accept(row, mail)
        return
    except (OperationalError, InterfaceError):
        raise  # cannot commit: the transport answers "try again later"
    except Exception as exc:  # never lose a message to a bug: kept, with why
        reason = _verdict(exc)
    _quarantined(row, reason, now())
    InboundEmail.objects.filter(pk=row.pk).update(
        status=row.status,
        kind=row.kind,
        reason=reason,
        processed_at=row.processed_at,
        ticket=None,
        ticket_message=None,
        contact=None,
        outbound_id=None,
        acknowledged=False,
        # What was read before it went wrong helps the admin who looks at it.
        from_address=row.from_address,
        from_name=row.from_name,
        subject=row.subject,
    )


def _accept(row: InboundEmail, mail: ParsedMail) -> None:
    """Route the message and write what became of it to its stored row."""
    at = now()
    row.flags = {}
    _route(row, mail, at)
    if mail.notes:  # how the message was read, e.g. a winmail.dat unpacked or not
        row.reason = " ".join([row.reason, *mail.notes]).strip()
        log.info("inbound message %s: %s", row.pk, " ".join(mail.notes))
    row.processed_at = at
    # Everything but the stored bytes and their key, which never change.
    update(row, PROCESSED_FIELDS)


def _verdict(exc: Exception) -> str:
    """Why a message that could not be taken in is quarantined."""
    if isinstance(exc, Quarantine):
        return str(exc)
    if isinstance(exc, ParseError):
        return f"Unparseable: {exc}"
    if isinstance(exc, DomainError):
        return f"Refused by the ticket rules: {exc.message}"
    log.error("Mail intake failed on an inbound message", exc_info=exc)
    return f"Intake failed ({type(exc).__name__}: {str(exc)[:300]}); kept for reprocessing."


def _quarantined(row: InboundEmail, reason: str, at: datetime) -> None:
    # What routing linked the row to was undone: no ticket, message, contact or outbox row.
    row.ticket = None
    row.ticket_message = None
    row.contact = None
    row.outbound_id = None
    row.acknowledged = False
    row.status = InboundEmail.Status.QUARANTINED
    row.reason = reason
    row.processed_at = at
    row.kind = InboundEmail.Kind.UNKNOWN


def _unsubscribes(subject: str) -> bool:
    """Status notices offer a mailto: unsubscribe whose subject carries our signed token:
    such a message ends that subscription and opens nothing. Without a valid token it is a
    person's mail like any other."""
    if not subject.lower().startswith("unsubscribe "):
        return False
    from caredesk.status.subscriptions import unsubscribe_by_token

    try:
        unsubscribe_by_token(subject)
    except DomainError:
        return False
    return True


def _route(row: InboundEmail, mail: ParsedMail, at: datetime) -> None:
    row.from_address = mail.from_address[:320]
    row.from_name = mail.from_name
    kept = mail.recipients[:200]
    row.recipients = "," + ",".join(kept) + "," if kept else ""
    row.recipient_names = {a: mail.recipient_names[a] for a in kept if a in mail.recipient_names}
    row.subject = mail.subject
    row.sent_at = mail.sent_at
    row.html = mail.html
    if mail.skipped_files:
        row.flags["skipped_files"] = mail.skipped_files
    envelope_from = row.envelope_from or None
    kind = classify.kind(mail, envelope_from=envelope_from)
    if kind.bounce:
        _bounce(row, mail, at)
        return
    if not mail.from_address:
        raise Quarantine("The message has no valid sender address (From).")
    if _is_ours(mail.from_address, row):
        row.kind = InboundEmail.Kind.AUTO_REPLY if kind.auto_reply else InboundEmail.Kind.MESSAGE
        row.status = InboundEmail.Status.IGNORED
        row.reason = "Sent from one of our own addresses; it opens nothing (mail loop guard)."
        return
    if _unsubscribes(mail.subject):
        row.kind = InboundEmail.Kind.MESSAGE
        row.status = InboundEmail.Status.IGNORED
        row.reason = "Left the status-page notices (the List-Unsubscribe mailto: address)."
        return
    sender = user_by_email(mail.from_address)
    thread = threads.find(mail, sender=sender)
    ticket = thread.ticket
    if thread.refused:
        row.flags["refused_subject_tag"] = thread.refused
    dmarc = classify.dmarc_result(mail, settings.TRUSTED_AUTHSERV_IDS)
    if dmarc:
        row.flags["dmarc"] = dmarc
    if ticket is not None and dmarc == "fail":
        row.flags["not_threaded"] = ticket.number
        ticket = None
    if kind.auto_reply:
        _auto_reply(row, ticket, at)
        return
    if sender is not None and sender.is_agent:
        _from_agent(row, mail, sender, ticket, at)
        return
    if ticket is not None and ticket.status == Status.CLOSED:
        row.flags["closed_ticket"] = ticket.number
        ticket = None
    contact = sender or find_or_create_contact(mail.from_address, name=mail.from_name)
    row.contact = contact
    row.kind = InboundEmail.Kind.MESSAGE
    row.status = InboundEmail.Status.STORED
    uploads = _uploads(mail)
    if ticket is not None:
        row.ticket_message = tickets.reply(
            ticket,
            actor=contact,
            body=_body(mail),
            channel=Channel.EMAIL,
            attachments=uploads,
            at=at,
        )
        row.ticket = ticket
        row.reason = f"Added to {ticket.number} (matched by {thread.how})."
        return
    recent = _recent(sender, row.from_address, at)
    if sender is not None and recent.cases >= CASES_PER_HOUR:
        raise Quarantine(
            f"{mail.from_address} opened {CASES_PER_HOUR} cases by email within the hour"
            " (a robot?); kept for review instead of opening another."
        )
    ticket = tickets.open_case(
        actor=contact,
        subject=mail.subject or "(no subject)",
        description=mail.text.strip(),
        channel=Channel.EMAIL,
        at=at,
    )
    row.ticket = ticket
    if uploads:
        names = ", ".join(u.name or "attachment" for u in uploads)
        row.ticket_message = tickets.reply(
            ticket,
            actor=contact,
            body=f"Sent with this request: {names}",
            channel=Channel.EMAIL,
            attachments=uploads,
            at=at,
        )
    row.reason = f"Opened {ticket.number}."
    if why := flags.describe(row.flags):
        flagged = {k: v for k, v in row.flags.items() if k != "skipped_files"}
        record(ticket, "mail.flagged", actor=None, at=at, inbound=row.pk, **flagged)
        row.reason += f" Flagged: {why}."
    _acknowledge(row, ticket, kind.no_ack, recent)


@dataclass(frozen=True)
class Recent:
    """What the limits on a new case by email count; each count stops at its limit."""

    cases: int  # cases this sender opened by email in the last hour
    acks_day: int  # acknowledgements sent to this address in the last day
    acks_hour: int  # ... and in the last hour


_RECENT = f"""
SELECT
 (SELECT COUNT(*) FROM (SELECT 1 FROM {Ticket._meta.db_table}
   WHERE requester_id = %s AND channel = %s AND created_at >= %s LIMIT {CASES_PER_HOUR}) t),
 (SELECT COUNT(*) FROM (SELECT 1 FROM {InboundEmail._meta.db_table}
   WHERE from_address = %s AND acknowledged = %s AND received_at >= %s LIMIT {ACKS_PER_DAY}) d),
 (SELECT COUNT(*) FROM (SELECT 1 FROM {InboundEmail._meta.db_table}
   WHERE from_address = %s AND acknowledged = %s AND received_at >= %s LIMIT {ACKS_PER_HOUR}) h)
"""  # noqa: S608 -- our own table names; every value is a parameter


def _recent(sender: User | None, address: str, at: datetime) -> Recent:
    """Every new case by email asks both limits: one plain statement answers them, where
    the ORM's two queries cost several times as much to build as to run."""
    ops = connection.ops
    hour = ops.adapt_datetimefield_value(at - timedelta(hours=1))
    day = ops.adapt_datetimefield_value(at - timedelta(days=1))
    with connection.cursor() as cursor:
        cursor.execute(
            _RECENT,
            [
                *(sender.pk if sender else None, Channel.EMAIL.value, hour),
                *(address, True, day),
                *(address, True, hour),
            ],
        )
        cases, acks_day, acks_hour = cursor.fetchone()
    return Recent(cases=cases, acks_day=acks_day, acks_hour=acks_hour)


def _body(mail: ParsedMail) -> str:
    text = mail.text.strip()
    if text:
        return text
    if mail.files:
        return "Sent: " + ", ".join(f.filename for f in mail.files)
    return "(The message had no text.)"


def _uploads(mail: ParsedMail) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(f.filename, f.data, f.content_type) for f in mail.files]


def _auto_reply(row: InboundEmail, ticket: Ticket | None, at: datetime) -> None:
    """Kept on the ticket as a flagged event: it neither reopens it nor stops a clock."""
    row.kind = InboundEmail.Kind.AUTO_REPLY
    row.flags["auto_reply"] = True
    if ticket is None:
        row.status = InboundEmail.Status.IGNORED
        row.reason = "An automatic reply that answers no ticket: kept in the intake log only."
        return
    row.status = InboundEmail.Status.STORED
    row.ticket = ticket
    row.reason = f"An automatic reply, kept on {ticket.number} without reopening it."
    record(
        ticket,
        "mail.auto_reply",
        actor=None,
        at=at,
        inbound=row.pk,
        sender=row.from_address,
        subject=row.subject,
    )


def _from_agent(
    row: InboundEmail, mail: ParsedMail, agent: User, ticket: Ticket | None, at: datetime
) -> None:
    # An agent writing from a mail client: an internal note, never mail to the customer.
    row.contact = agent
    row.kind = InboundEmail.Kind.MESSAGE
    if ticket is None:
        row.status = InboundEmail.Status.IGNORED
        row.reason = "Sent by an agent and answers no ticket: kept in the intake log only."
        return
    row.ticket_message = tickets.add_note(
        ticket, actor=agent, body=_body(mail), attachments=_uploads(mail), at=at
    )
    row.status = InboundEmail.Status.STORED
    row.ticket = ticket
    row.reason = f"Added to {ticket.number} as an internal note from {agent.email}."


def _bounce(row: InboundEmail, mail: ParsedMail, at: datetime) -> None:
    row.kind = InboundEmail.Kind.BOUNCE
    row.status = InboundEmail.Status.IGNORED
    report = mail.bounce
    recipient = report.recipient if report else ""
    recipient = recipient or classify.bounced_recipient(mail)
    row.bounce_recipient = recipient
    if report:
        row.bounce_action = report.action
        row.bounce_status = report.status
        row.bounce_diagnostic = report.diagnostic
    row.contact = (
        User.objects.filter(email=recipient, role="customer").first() if recipient else None
    )
    outbound = _outbound_for(row, mail)
    ticket = getattr(outbound, "ticket", None) if outbound is not None else None
    if outbound is not None:
        row.outbound_id = outbound.pk
    if isinstance(ticket, Ticket):
        row.ticket = ticket
        record(
            ticket,
            "mail.bounced",
            actor=None,
            at=at,
            inbound=row.pk,
            recipient=recipient,
            status=row.bounce_status,
            action=row.bounce_action,
        )
    row.reason = (
        "A delivery status notification"
        + (f" for {recipient}" if recipient else "")
        + "; it opens no case."
    )


def _outbound_for(row: InboundEmail, mail: ParsedMail) -> Any:
    lookup = _contract("outbound_for_bounce_address", module="caredesk.mail.ids")
    if lookup is None:
        return None
    candidates = [*row.envelope_to, *mail.recipients]
    for address in candidates:
        found = lookup(str(address))
        if found is not None:
            return found
    return None


def _contract(name: str, *, module: str) -> Callable[..., Any] | None:
    # Functions of the outbound side (signed Message-IDs, VERP, acknowledgements); intake
    # works without them until they are installed.
    try:
        return getattr(importlib.import_module(module), name, None)  # type: ignore[no-any-return]
    except ImportError:
        return None


def our_addresses() -> frozenset[str]:
    """Our sender and the teams' addresses (the teams from the per-process service model
    cache, since every message asks)."""
    emails = [settings.DEFAULT_FROM_EMAIL, *(t.email for t in snapshot().teams.values())]
    return frozenset(e.lower() for e in emails if e)


def _is_ours(address: str, row: InboundEmail) -> bool:
    domain = address.rpartition("@")[2]
    if domain in {d.lower() for d in settings.MAIL_DOMAINS}:
        return True
    return address in our_addresses() or address in {clean_address(str(a)) for a in row.envelope_to}


def _acknowledge(row: InboundEmail, ticket: Ticket, no_ack: str, recent: Recent) -> None:
    if no_ack:
        row.flags["no_ack"] = no_ack
        return
    if recent.acks_day >= ACKS_PER_DAY or recent.acks_hour >= ACKS_PER_HOUR:
        row.flags["no_ack"] = "rate limit"
        return
    queue = _contract("queue_acknowledgement", module="caredesk.mail.outbound")
    if queue is None:
        row.flags["no_ack"] = "outbound mail not installed"
        return
    try:
        # Refusals come from checks before any write, so no savepoint is needed here.
        queue(ticket, to=row.from_address, inbound=row)
    except DomainError as exc:
        # The outbound side refused a value for a header: the case stays, without an ack.
        row.flags["no_ack"] = f"refused: {exc.message}"
        return
    row.acknowledged = True
